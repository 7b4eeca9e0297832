<?php

namespace Blog;

/**
 * Adds a clock to a class, so tests can freeze time.
 */
trait Timestamps
{
    private ?string $frozenAt = null;

    /**
     * The current time as an ISO-8601 string, or the frozen time in tests.
     */
    public function now(): string
    {
        return $this->frozenAt ?? date(DATE_ATOM);
    }

    /**
     * Freeze the clock at a fixed moment.
     */
    public function freezeAt(string $moment): void
    {
        $this->frozenAt = $moment;
    }
}
