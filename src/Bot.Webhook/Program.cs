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

var builder = WebApplication.CreateBuilder(args);

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

app.Run();

public partial class Program;
