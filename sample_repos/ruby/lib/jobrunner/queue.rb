require 'json'

module Jobrunner
  # A thread-safe in-memory queue of serialized jobs, ordered by run time.
  class Queue
    def initialize
      @jobs = []
      @mutex = Mutex.new
    end

    # Add a job to run at the given time (now by default).
    def push(job_class, args, run_at: Time.now)
      payload = JSON.generate('class' => job_class.to_s, 'args' => args, 'run_at' => run_at.to_f)
      @mutex.synchronize do
        @jobs << payload
        @jobs.sort_by! { |j| JSON.parse(j)['run_at'] }
      end
    end

    # Take the next job whose run time has come, or nil.
    def pop(now = Time.now)
      @mutex.synchronize do
        index = @jobs.index { |j| JSON.parse(j)['run_at'] <= now.to_f }
        index && JSON.parse(@jobs.delete_at(index))
      end
    end

    # Number of jobs waiting.
    def size
      @mutex.synchronize { @jobs.size }
    end
  end
end
