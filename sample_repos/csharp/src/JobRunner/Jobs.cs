using System;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;

namespace JobRunner;

/// <summary>
/// Ready-made jobs and helpers to build jobs from delegates.
/// </summary>
public static class Jobs
{
    /// <summary>
    /// Wraps an async delegate as a job with the given name.
    /// </summary>
    public static IJob FromDelegate(string name, Func<CancellationToken, Task> run) => new DelegateJob(name, run);

    /// <summary>
    /// Submits a job that calls a URL and fails on a non-success status code.
    /// </summary>
    public static Guid SubmitWebhook(this Scheduler scheduler, HttpClient http, Uri url) =>
        scheduler.Submit(new WebhookJob(http, url));

    private sealed class DelegateJob : IJob
    {
        private readonly Func<CancellationToken, Task> _run;

        public DelegateJob(string name, Func<CancellationToken, Task> run)
        {
            Name = name;
            _run = run;
        }

        public string Name { get; }

        public Task RunAsync(CancellationToken cancellation) => _run(cancellation);
    }

    /// <summary>
    /// Posts to a webhook URL; any non-2xx answer counts as a failure to retry.
    /// </summary>
    private sealed class WebhookJob : IJob
    {
        private readonly HttpClient _http;
        private readonly Uri _url;

        public WebhookJob(HttpClient http, Uri url)
        {
            _http = http;
            _url = url;
        }

        public string Name => $"webhook {_url.Host}";

        public async Task RunAsync(CancellationToken cancellation)
        {
            using var response = await _http.PostAsync(_url, content: null, cancellation);
            response.EnsureSuccessStatusCode();
        }
    }
}
