using Bot.Dispatch;
using Bot.Hosting;

// A slim web host: the dispatcher works in the background; Kestrel serves only health and metrics.
return WebApplication.CreateSlimBuilder(args).BuildDispatcherReplica().RunOrReportConfigurationError();
