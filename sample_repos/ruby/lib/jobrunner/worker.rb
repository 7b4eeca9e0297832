module Jobrunner
  # Runs jobs from a queue and retries failures with exponential backoff.
  class Worker
    attr_reader :processed, :failed

    def initialize(queue, max_attempts: 5, logger: nil)
      @queue = queue
      @max_attempts = max_attempts
      @logger = logger
      @processed = 0
      @failed = 0
    end

    # Perform one job; on error re-enqueue it later until attempts run out.
    def perform(job)
      klass = Object.const_get(job['class'])
      klass.new.perform(*job['args'])
      @processed += 1
    rescue StandardError => e
      attempts = job.fetch('attempts', 0) + 1
      if attempts >= @max_attempts
        @failed += 1
        @logger&.error("giving up on #{job['class']}: #{e.message}")
      else
        @queue.push(job['class'], job['args'], run_at: Time.now + self.class.backoff(attempts))
      end
    end

    # Seconds to wait before the next attempt: 2^attempts plus jitter.
    def self.backoff(attempts)
      (2**attempts) + rand(0.0..1.0)
    end

    # Drain the queue until it is empty.
    def run_until_empty
      while (job = @queue.pop)
        perform(job)
      end
    end
  end
end
