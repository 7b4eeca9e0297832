using System;
using System.Collections.Generic;

namespace JobRunner;

/// <summary>
/// A priority queue of tickets ordered by the time they become due.
/// </summary>
public class JobQueue
{
    private readonly PriorityQueue<JobTicket, DateTimeOffset> _tickets = new();
    private readonly object _gate = new();

    /// <summary>The number of tickets waiting, due or not.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _tickets.Count;
            }
        }
    }

    /// <summary>
    /// Adds a ticket; it is handed out once its <c>NotBefore</c> time has passed.
    /// </summary>
    public void Enqueue(JobTicket ticket)
    {
        lock (_gate)
        {
            _tickets.Enqueue(ticket, ticket.NotBefore);
        }
    }

    /// <summary>
    /// Takes the earliest ticket that is due at <paramref name="now"/>, if any.
    /// </summary>
    public bool TryDequeueDue(DateTimeOffset now, out JobTicket? ticket)
    {
        lock (_gate)
        {
            if (_tickets.TryPeek(out var next, out var due) && due <= now)
            {
                ticket = _tickets.Dequeue();
                return true;
            }
        }
        ticket = null;
        return false;
    }

    /// <summary>
    /// How long until the next ticket is due, or null when the queue is empty.
    /// </summary>
    public TimeSpan? TimeUntilNext(DateTimeOffset now)
    {
        lock (_gate)
        {
            return _tickets.TryPeek(out _, out var due) ? due - now : null;
        }
    }
}
