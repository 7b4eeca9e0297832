using System;

namespace JobRunner;

/// <summary>
/// Where a job is in its life cycle.
/// </summary>
public enum JobStatus
{
    Pending,
    Running,
    Succeeded,
    Failed,
}

/// <summary>
/// A unit of work the scheduler can run.
/// </summary>
public interface IJob
{
    /// <summary>A stable name, used in logs and in the store.</summary>
    string Name { get; }

    /// <summary>Runs the job once; throws to report a failure.</summary>
    Task RunAsync(CancellationToken cancellation);
}

/// <summary>
/// One queued execution of a job, with its attempts so far.
/// </summary>
public sealed record JobTicket(Guid Id, IJob Job, DateTimeOffset NotBefore)
{
    public int Attempts { get; init; }

    public JobStatus Status { get; init; } = JobStatus.Pending;

    /// <summary>
    /// A copy of the ticket for the next attempt, due after <paramref name="delay"/>.
    /// </summary>
    public JobTicket NextAttempt(TimeSpan delay, DateTimeOffset now) =>
        this with { Attempts = Attempts + 1, NotBefore = now + delay, Status = JobStatus.Pending };
}
