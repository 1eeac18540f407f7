using Bot.Core;
using Bot.Core.Announcements;
using Bot.Core.Redis;
using Bot.Dispatch;
using Bot.Hosting;
using Bot.Webhook.Admin;
using Bot.Webhook.Announcements;
using Bot.Webhook.Api;
using Bot.Webhook.Employees;
using Bot.Webhook.Employers;
using Bot.Webhook.Events;
using Bot.Webhook.Media;
using Bot.Webhook.Observability;
using Bot.Webhook.Portal;
using Bot.Webhook.Templates;
using Bot.Webhook.Webhook;
using Bot.WhatsAppClient;

var builder = WebApplication.CreateBuilder(args);
// The portal's files: a published app has them in wwwroot; a built one (dotnet bin/…/Bot.Webhook.dll, run.sh) finds
// them through the static web assets manifest, which ASP.NET Core reads by itself only in Development.
builder.WebHost.UseStaticWebAssets();

builder.AddRedis();
builder.Services.AddAnnouncementStores();
// The dispatcher applies the employers' zones and quiet hours; this host reads the same configuration, so a wrong one
// stops it at start-up too, instead of being found only when a dispatcher starts.
builder.Services.AddEmployerTimings();
builder.Services.AddWhatsAppClient();
builder.AddRuntimeTenants();
builder.AddEmployerAuthentication();
builder.AddAdmin();
builder.AddAnnouncementsApi();
builder.AddWhatsAppWebhook();
builder.AddTemplates();
builder.AddEventsOut();
builder.AddServiceDefaults("Bot.Webhook", WebhookMetrics.MeterName,
    // Always listed: with the dispatcher in another process the meter simply has no instruments here.
    DispatcherMetrics.MeterName);
builder.AddApiDocs();
if (builder.Configuration.GetValue<bool>("Dispatcher:Enabled")) builder.AddDispatcher();

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UsePortal();
app.UseAuthentication();
app.UseAuthorization();

app.MapEmployer();
app.MapAdmin();
app.MapEmployees();
app.MapAnnouncements();
app.MapTemplates();
app.MapMedia();
app.MapWebhooks();
app.MapWebhook();
app.MapDefaultEndpoints();
app.MapApiDocs();

return app.RunOrReportConfigurationError();

public partial class Program;
