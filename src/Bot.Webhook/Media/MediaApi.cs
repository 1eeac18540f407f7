using System.Security.Cryptography;
using Bot.Core.Media;
using Bot.Webhook.Employers;
using Bot.WhatsAppClient;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Refit;

namespace Bot.Webhook.Media;

/// <summary>
/// <c>POST /api/media</c>: a file (multipart <c>file</c>, or the raw body with its Content-Type) goes to WhatsApp's media
/// upload for the employer's number and is not kept here. Its sha256 is taken first, so the same bytes answer the id
/// already uploaded while it is valid, and a fan-out to thousands carries one id.
/// </summary>
public static partial class MediaApi
{
    // Above the largest type's limit (a PDF's 100 MB) by the multipart framing: larger bodies are cut at the door.
    private const long MaxRequestBytes = 101L * 1024 * 1024;

    public static RouteGroupBuilder MapMedia(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/media").RequireEmployer().WithTags("Media");
        group.MapPost("/", UploadAsync)
            .DisableAntiforgery()
            .WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(MaxRequestBytes))
            .WithSummary("Upload a file for announcements")
            .WithDescription("Multipart `file`, or the raw body with its Content-Type: image/jpeg or image/png up to 5 MB, video/mp4 up to 16 MB, application/pdf up to 100 MB (else 415 or 413). Uploaded to WhatsApp for the employer's number; the product keeps no copy. 201 `{id, contentType, size, sha256, fileName, expiresAt}`; the same bytes again answer the same id (200) while it is valid (30 days). Use the id as an announcement's `media: {id}` or a template's `header: {mediaId}`.");
        return group;
    }

    private static async Task<Results<Created<MediaInfo>, Ok<MediaInfo>, ProblemHttpResult, ValidationProblem>> UploadAsync(
        HttpRequest request, Employer employer, SenderDirectory senders, MediaStore media, IWhatsAppApi api, IOptionsMonitor<WhatsAppOptions> whatsApp,
        TimeProvider time, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var (content, contentType, fileName, problem) = await ReadAsync(request, cancellationToken);
        if (problem is not null) return problem;
        await using var _ = content;
        if (MediaRef.KindOf(contentType) is not { } kind)
            return TypedResults.Problem(title: "Unsupported media type", statusCode: StatusCodes.Status415UnsupportedMediaType,
                detail: $"'{contentType}' is not a type WhatsApp sends: image/jpeg, image/png, video/mp4 or application/pdf.");
        if (content!.Length > MediaRef.MaxBytes(kind))
            return TypedResults.Problem(title: "File too large", statusCode: StatusCodes.Status413PayloadTooLarge,
                detail: $"{contentType} is at most {MediaRef.MaxBytes(kind) / (1024 * 1024)} MB on WhatsApp; this file has {content.Length:N0} bytes.");
        if (content.Length == 0)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["file"] = ["file is empty."] });

        var sha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(content, cancellationToken));
        var sender = senders.ForEmployer(employer.Id);
        if (await media.FindByShaAsync(sender.Id, sha256) is { } known) return TypedResults.Ok(known);

        content.Position = 0;
        var normalizedType = contentType!.ToLowerInvariant();
        using var response = await api.UploadMediaAsync(whatsApp.CurrentValue.ApiVersion, sender.PhoneNumberId, "whatsapp", normalizedType,
            new StreamPart(content, fileName ?? "file", normalizedType), sender.Id, cancellationToken);
        if (!response.IsSuccessStatusCode || response.Content?.Id is not { Length: > 0 } id)
        {
            LogUploadFailed(loggers.CreateLogger(typeof(MediaApi)), sender.Id, (int?)response.StatusCode);
            return TypedResults.Problem(title: "WhatsApp did not take the file", statusCode: StatusCodes.Status502BadGateway,
                detail: $"The media upload answered {(int?)response.StatusCode}; nothing was stored. Try again.");
        }

        var info = new MediaInfo(id, normalizedType, content.Length, sha256, fileName, time.GetUtcNow() + MediaStore.Validity);
        await media.AddAsync(sender.Id, info);
        return TypedResults.Created($"/api/media/{id}", info);
    }

    /// <summary>
    /// The file as a seekable stream (ASP.NET buffers a large one to a temporary file that is deleted with the request),
    /// its Content-Type and name; or the problem with the request.
    /// </summary>
    private static async Task<(Stream? Content, string? ContentType, string? FileName, ProblemHttpResult? Problem)> ReadAsync(
        HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxRequestBytes) return (null, null, null, TooLarge());
        try
        {
            if (request.HasFormContentType)
            {
                var form = await request.ReadFormAsync(cancellationToken);
                if (form.Files.GetFile("file") is not { } file)
                    return (null, null, null, TypedResults.Problem(title: "No file", detail: "Send the file as the multipart field `file`.", statusCode: StatusCodes.Status400BadRequest));
                return (file.OpenReadStream(), file.ContentType, Path.GetFileName(file.FileName), null);
            }

            request.EnableBuffering(bufferThreshold: 64 * 1024, bufferLimit: MaxRequestBytes);
            await request.Body.DrainAsync(cancellationToken);
            request.Body.Position = 0;
            var name = request.Headers.ContentDisposition.ToString() is { Length: > 0 } disposition &&
                       System.Net.Http.Headers.ContentDispositionHeaderValue.TryParse(disposition, out var parsed)
                ? Path.GetFileName(parsed.FileNameStar ?? parsed.FileName?.Trim('"'))
                : null;
            return (request.Body, request.ContentType?.Split(';')[0].Trim(), name, null);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, null, null, TooLarge());
        }
        catch (InvalidDataException)
        {
            return (null, null, null, TooLarge());
        }
    }

    private static ProblemHttpResult TooLarge() =>
        TypedResults.Problem(title: "File too large", detail: "WhatsApp takes files of at most 100 MB (a PDF; images 5 MB, videos 16 MB).",
            statusCode: StatusCodes.Status413PayloadTooLarge);

    [LoggerMessage(LogLevel.Warning, "Media upload for sender {Sender} answered {Status}")]
    private static partial void LogUploadFailed(ILogger logger, string sender, int? status);
}
