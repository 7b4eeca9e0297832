using System;

namespace JobRunner;

/// <summary>
/// How often and how long to wait before a failed job is tried again.
/// </summary>
public readonly struct RetryPolicy
{
    /// <summary>Tries at most <paramref name="maxAttempts"/> times, doubling the delay from <paramref name="baseDelay"/>.</summary>
    public RetryPolicy(int maxAttempts, TimeSpan baseDelay, TimeSpan maxDelay)
    {
        if (maxAttempts < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxAttempts));
        }
        MaxAttempts = maxAttempts;
        BaseDelay = baseDelay;
        MaxDelay = maxDelay;
    }

    public int MaxAttempts { get; }

    public TimeSpan BaseDelay { get; }

    public TimeSpan MaxDelay { get; }

    /// <summary>
    /// The default policy: five attempts, from one second up to one minute apart.
    /// </summary>
    public static RetryPolicy Default => new(5, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));

    /// <summary>
    /// Whether a job that failed <paramref name="attempts"/> times may run again.
    /// </summary>
    public bool ShouldRetry(int attempts) => attempts < MaxAttempts;

    /// <summary>
    /// The exponential backoff before the given attempt, capped at <see cref="MaxDelay"/>.
    /// </summary>
    public TimeSpan DelayFor(int attempt)
    {
        var factor = Math.Pow(2, Math.Max(0, attempt - 1));
        var delay = TimeSpan.FromMilliseconds(BaseDelay.TotalMilliseconds * factor);
        return delay < MaxDelay ? delay : MaxDelay;
    }
}
