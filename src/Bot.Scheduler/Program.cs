using Bot.Core.Redis;
using Bot.Scheduler;
using Bot.WhatsAppClient;

var builder = Host.CreateApplicationBuilder(args);
builder.AddRedis();
builder.Services.AddWhatsAppClient();
builder.AddDispatcher();
builder.Build().Run();
