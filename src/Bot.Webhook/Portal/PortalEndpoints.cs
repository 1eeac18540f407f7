using Microsoft.Net.Http.Headers;

namespace Bot.Webhook.Portal;

/// <summary>
/// The employer portal: static files from wwwroot (<c>/</c> and <c>/portal/*</c>) calling the employer API with
/// the key the employer typed in. It has no server-side state and no routes of its own, so it can never shadow
/// <c>/api</c>, <c>/webhook</c>, <c>/health</c> or <c>/send_announcement</c>: a path that is not a file passes through.
/// </summary>
public static class PortalEndpoints
{
    /// <summary>
    /// The page holds an API key in session storage, so script injection would leak it: only our own scripts
    /// may run, nothing may frame the page, and no URL the page loads carries the key or a referrer.
    /// </summary>
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public static WebApplication UsePortal(this WebApplication app)
    {
        app.UseDefaultFiles();
        app.UseStaticFiles(new StaticFileOptions
        {
            OnPrepareResponse = context =>
            {
                var headers = context.Context.Response.Headers;
                // Revalidate every time: a deploy must not leave an employer on yesterday's script.
                headers[HeaderNames.CacheControl] = "no-cache";
                headers[HeaderNames.XContentTypeOptions] = "nosniff";
                headers["Referrer-Policy"] = "no-referrer";
                if (context.File.Name.EndsWith(".html", StringComparison.OrdinalIgnoreCase))
                {
                    headers[HeaderNames.ContentSecurityPolicy] = ContentSecurityPolicy;
                    headers[HeaderNames.XFrameOptions] = "DENY";
                }
            },
        });
        return app;
    }
}
