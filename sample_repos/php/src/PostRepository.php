<?php

namespace Blog;

use PDO;

/**
 * Stores and fetches blog posts in a SQL database.
 */
class PostRepository
{
    use Timestamps;

    public function __construct(private PDO $pdo)
    {
    }

    /**
     * Fetch one published post by its slug, or null when there is none.
     */
    public function findBySlug(string $slug): ?array
    {
        $stmt = $this->pdo->prepare('SELECT * FROM posts WHERE slug = ? AND published = 1');
        $stmt->execute([$slug]);
        $row = $stmt->fetch(PDO::FETCH_ASSOC);
        return $row === false ? null : $row;
    }

    /**
     * Insert a new post and return its id.
     */
    public function insert(string $title, string $body, string $slug): int
    {
        $stmt = $this->pdo->prepare('INSERT INTO posts (title, body, slug, created_at) VALUES (?, ?, ?, ?)');
        $stmt->execute([$title, $body, $slug, $this->now()]);
        return (int) $this->pdo->lastInsertId();
    }

    /**
     * Latest published posts, newest first, one page at a time.
     */
    public function latest(int $page, int $perPage = 10): array
    {
        $stmt = $this->pdo->prepare('SELECT * FROM posts WHERE published = 1 ORDER BY created_at DESC LIMIT ? OFFSET ?');
        $stmt->execute([$perPage, ($page - 1) * $perPage]);
        return $stmt->fetchAll(PDO::FETCH_ASSOC);
    }
}
