using System;
using System.Collections.Generic;
using System.Threading.Tasks;

namespace JobRunner.Storage
{
    /// <summary>
    /// Persists the latest state of every ticket.
    /// </summary>
    public interface IJobStore
    {
        /// <summary>Inserts or replaces the ticket with the same id.</summary>
        Task SaveAsync(JobTicket ticket);

        /// <summary>The ticket with this id, or null.</summary>
        Task<JobTicket?> FindAsync(Guid id);

        /// <summary>Every ticket in the given status.</summary>
        Task<IReadOnlyList<JobTicket>> ListAsync(JobStatus status);
    }

    /// <summary>
    /// Called when a ticket's status changes in a store.
    /// </summary>
    public delegate void StatusChanged(JobTicket before, JobTicket after);
}
