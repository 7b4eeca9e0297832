<?php

namespace Blog;

/**
 * Computes page numbers and links for long listings.
 */
class Paginator
{
    public function __construct(private int $total, private int $perPage = 10)
    {
    }

    /**
     * Number of pages needed to show every item.
     */
    public function pageCount(): int
    {
        return max(1, (int) ceil($this->total / $this->perPage));
    }

    /**
     * Page numbers to show around the current page, with ellipses for gaps.
     */
    public function window(int $current, int $radius = 2): array
    {
        $pages = [];
        for ($p = 1; $p <= $this->pageCount(); $p++) {
            if ($p === 1 || $p === $this->pageCount() || abs($p - $current) <= $radius) {
                $pages[] = $p;
            } elseif (end($pages) !== '...') {
                $pages[] = '...';
            }
        }
        return $pages;
    }
}

/**
 * The publication state of a post.
 */
enum PostStatus: string
{
    case Draft = 'draft';
    case Published = 'published';

    /** A label for the admin interface. */
    public function label(): string
    {
        return ucfirst($this->value);
    }
}
