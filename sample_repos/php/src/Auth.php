<?php

namespace Blog;

/**
 * Authenticates authors with hashed passwords.
 */
interface PasswordHasher
{
    /** Hash a plain-text password for storage. */
    public function hash(string $password): string;

    /** Check a plain-text password against a stored hash. */
    public function verify(string $password, string $hash): bool;
}

/**
 * Password hashing with PHP's bcrypt implementation.
 */
class BcryptHasher implements PasswordHasher
{
    public function hash(string $password): string
    {
        return password_hash($password, PASSWORD_BCRYPT);
    }

    public function verify(string $password, string $hash): bool
    {
        return password_verify($password, $hash);
    }
}

/**
 * Generate a random token for password reset links.
 */
function generate_reset_token(int $bytes = 32): string
{
    return bin2hex(random_bytes($bytes));
}
