module Jobrunner
  # Collects latency statistics about finished jobs.
  class Stats
    def initialize
      @samples = []
    end

    # Record how long a job took, in seconds.
    def record(seconds)
      @samples << seconds
    end

    # The given percentile (0-100) of recorded durations.
    def percentile(pct)
      return nil if @samples.empty?

      sorted = @samples.sort
      sorted[((pct / 100.0) * (sorted.size - 1)).round]
    end
  end
end
