# Jobrunner: a small background job queue.
require_relative 'jobrunner/queue'
require_relative 'jobrunner/worker'
require_relative 'jobrunner/schedule'

module Jobrunner
  VERSION = '0.3.0'

  # Configure the library with a block, e.g. the queue backend and logger.
  def self.configure
    yield config
  end

  # The global configuration hash.
  def self.config
    @config ||= { concurrency: 2, max_attempts: 5 }
  end
end
