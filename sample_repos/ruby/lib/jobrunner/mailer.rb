require 'erb'

module Jobrunner
  # Renders e-mail templates and hands them to a delivery method.
  class Mailer
    # Render an ERB template with the given variables bound as locals.
    def self.render(template, vars = {})
      ERB.new(template).result_with_hash(vars)
    end

    def initialize(delivery)
      @delivery = delivery
    end

    # Build a message and deliver it, returning the message hash.
    def deliver(to:, subject:, template:, vars: {})
      message = { to: to, subject: subject, body: self.class.render(template, vars) }
      @delivery.call(message)
      message
    end
  end

  # Formats durations for log lines, e.g. 1h 2m 3s.
  module Duration
    # Human-readable form of a number of seconds.
    def self.humanize(seconds)
      h, rest = seconds.divmod(3600)
      m, s = rest.divmod(60)
      [[h, 'h'], [m, 'm'], [s, 's']].reject { |v, _| v.zero? }.map { |v, u| "#{v}#{u}" }.join(' ')
    end
  end
end
