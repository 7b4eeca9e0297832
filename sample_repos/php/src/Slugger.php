<?php

namespace Blog;

/**
 * Turns titles into URL-friendly slugs.
 */
final class Slugger
{
    /**
     * Lowercase a title, strip accents and replace runs of other characters with dashes.
     */
    public static function slugify(string $title): string
    {
        $ascii = iconv('UTF-8', 'ASCII//TRANSLIT', $title);
        $slug = preg_replace('/[^a-z0-9]+/', '-', strtolower($ascii));
        return trim($slug, '-');
    }

    /**
     * Append a number to a slug until it no longer collides with an existing one.
     */
    public static function unique(string $slug, array $taken): string
    {
        $candidate = $slug;
        $n = 2;
        while (in_array($candidate, $taken, true)) {
            $candidate = $slug . '-' . $n++;
        }
        return $candidate;
    }
}
