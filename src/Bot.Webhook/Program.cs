using Bot.Core;
using Bot.Core.Redis;
using Bot.Scheduler;
using Bot.Webhook.Announcements;
using Bot.Webhook.Api;
using Bot.Webhook.Employees;
using Bot.Webhook.Employers;
using Bot.Webhook.Health;
using Bot.Webhook.Observability;
using Bot.Webhook.Portal;
using Bot.Webhook.Webhook;
using Bot.WhatsAppClient;
using Microsoft.Extensions.Options;

var builder = WebApplication.CreateBuilder(args);
// The portal's files: a published app has them in wwwroot; a built one (dotnet bin/…/Bot.Webhook.dll, run.sh) finds
// them through the static web assets manifest, which ASP.NET Core reads by itself only in Development.
builder.WebHost.UseStaticWebAssets();

builder.AddRedis();
builder.Services.AddAnnouncementStores();
builder.Services.AddWhatsAppClient();
builder.Services.AddProblemDetails();
builder.AddEmployerAuthentication();
builder.AddWhatsAppWebhook();
builder.AddHealthEndpoints();
builder.AddMetricsExport();
builder.AddApiDocs();
if (builder.Configuration.GetValue<bool>("Dispatcher:Enabled")) builder.AddDispatcher();

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UsePortal();
app.UseAuthentication();
app.UseAuthorization();

app.MapEmployees();
app.MapAnnouncements();
app.MapWebhook();
app.MapHealthEndpoints();
app.MapMetrics();
app.MapApiDocs();

try
{
    app.Run();
    return 0;
}
catch (OptionsValidationException ex)
{
    // One line naming the setting, not a stack trace.
    Console.Error.WriteLine($"Configuration error: {ex.Message}");
    return 2;
}

public partial class Program;
