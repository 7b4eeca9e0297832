using System;
using System.Threading;
using System.Threading.Tasks;
using JobRunner.Storage;

namespace JobRunner;

/// <summary>
/// Runs queued jobs on a fixed number of workers, retrying failures with backoff.
/// </summary>
public sealed class Scheduler : IAsyncDisposable
{
    private readonly JobQueue _queue = new();
    private readonly IJobStore _store;
    private readonly RetryPolicy _policy;
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>
    /// Creates a scheduler that records every outcome in <paramref name="store"/>.
    /// </summary>
    public Scheduler(IJobStore store, RetryPolicy policy)
    {
        _store = store;
        _policy = policy;
    }

    /// <summary>Raised after each attempt, with the ticket as it was stored.</summary>
    public event Action<JobTicket>? AttemptFinished;

    /// <summary>
    /// Queues a job to run as soon as a worker is free.
    /// </summary>
    public Guid Submit(IJob job)
    {
        var ticket = new JobTicket(Guid.NewGuid(), job, DateTimeOffset.UtcNow);
        _queue.Enqueue(ticket);
        return ticket.Id;
    }

    /// <summary>
    /// Starts <paramref name="workers"/> loops that pull due tickets until disposal.
    /// </summary>
    public Task StartAsync(int workers)
    {
        var loops = new Task[workers];
        for (var i = 0; i < workers; i++)
        {
            loops[i] = Task.Run(WorkerLoop);
        }
        return Task.WhenAll(loops);

        async Task WorkerLoop()
        {
            while (!_stopping.IsCancellationRequested)
            {
                if (_queue.TryDequeueDue(DateTimeOffset.UtcNow, out var ticket) && ticket is not null)
                {
                    await RunOnceAsync(ticket);
                    continue;
                }
                await Task.Delay(_queue.TimeUntilNext(DateTimeOffset.UtcNow) ?? TimeSpan.FromMilliseconds(200));
            }
        }
    }

    /// <summary>
    /// Runs one attempt of a ticket, stores the result and requeues it when it may retry.
    /// </summary>
    private async Task RunOnceAsync(JobTicket ticket)
    {
        var attempt = ticket with { Attempts = ticket.Attempts + 1, Status = JobStatus.Running };
        try
        {
            await attempt.Job.RunAsync(_stopping.Token);
            attempt = attempt with { Status = JobStatus.Succeeded };
        }
        catch (Exception) when (_policy.ShouldRetry(attempt.Attempts))
        {
            attempt = attempt.NextAttempt(_policy.DelayFor(attempt.Attempts), DateTimeOffset.UtcNow);
            _queue.Enqueue(attempt);
        }
        catch (Exception)
        {
            attempt = attempt with { Status = JobStatus.Failed };
        }
        await _store.SaveAsync(attempt);
        AttemptFinished?.Invoke(attempt);
    }

    /// <summary>Stops the workers after their current attempt.</summary>
    public ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        return ValueTask.CompletedTask;
    }
}
