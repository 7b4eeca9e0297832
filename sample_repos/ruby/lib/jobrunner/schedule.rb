module Jobrunner
  # Parses cron expressions and computes the next run time.
  class Schedule
    FIELDS = %i[minute hour day month weekday].freeze

    # Parse a five-field cron expression such as "*/15 9-17 * * 1-5".
    def self.parse(expression)
      parts = expression.split
      raise ArgumentError, "expected 5 fields, got #{parts.size}" unless parts.size == 5

      new(FIELDS.zip(parts).to_h)
    end

    def initialize(fields)
      @fields = fields
    end

    # Whether the schedule fires at the given time.
    def due?(time)
      values = { minute: time.min, hour: time.hour, day: time.day, month: time.month, weekday: time.wday }
      FIELDS.all? { |f| matches?(@fields[f], values[f]) }
    end

    # The first minute after the given time at which the schedule fires.
    def next_run(after = Time.now)
      t = Time.at((after.to_i / 60 + 1) * 60)
      t += 60 until due?(t)
      t
    end

    private

    def matches?(field, value)
      field.split(',').any? do |part|
        range, step = part.split('/')
        step = (step || 1).to_i
        if range == '*'
          (value % step).zero?
        elsif range.include?('-')
          lo, hi = range.split('-').map(&:to_i)
          value.between?(lo, hi) && ((value - lo) % step).zero?
        else
          range.to_i == value
        end
      end
    end
  end
end
