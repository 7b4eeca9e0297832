using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;

namespace JobRunner.Storage
{
    /// <summary>
    /// A store that keeps tickets in memory, for tests and single-process use.
    /// </summary>
    public class InMemoryJobStore : IJobStore
    {
        private readonly ConcurrentDictionary<Guid, JobTicket> _tickets = new();

        /// <summary>Raised when a saved ticket replaces one with another status.</summary>
        public StatusChanged? OnStatusChanged { get; set; }

        /// <inheritdoc />
        public Task SaveAsync(JobTicket ticket)
        {
            _tickets.AddOrUpdate(ticket.Id, ticket, (_, before) =>
            {
                if (before.Status != ticket.Status)
                {
                    OnStatusChanged?.Invoke(before, ticket);
                }
                return ticket;
            });
            return Task.CompletedTask;
        }

        /// <inheritdoc />
        public Task<JobTicket?> FindAsync(Guid id) =>
            Task.FromResult(_tickets.TryGetValue(id, out var ticket) ? ticket : null);

        /// <inheritdoc />
        public Task<IReadOnlyList<JobTicket>> ListAsync(JobStatus status)
        {
            IReadOnlyList<JobTicket> matching = _tickets.Values.Where(t => t.Status == status).ToList();
            return Task.FromResult(matching);
        }

        /// <summary>
        /// Removes finished tickets older than <paramref name="age"/>; returns how many went.
        /// </summary>
        public int Purge(TimeSpan age, DateTimeOffset now)
        {
            var removed = 0;
            foreach (var (id, ticket) in _tickets)
            {
                if (IsFinished(ticket) && now - ticket.NotBefore > age && _tickets.TryRemove(id, out _))
                {
                    removed++;
                }
            }
            return removed;

            static bool IsFinished(JobTicket t) => t.Status is JobStatus.Succeeded or JobStatus.Failed;
        }
    }
}
