<?php

namespace Blog;

/**
 * A deliberately small Markdown renderer for post bodies.
 */
class Markdown
{
    /**
     * Render headings, emphasis, links and paragraphs to HTML, escaping everything else.
     */
    public function render(string $text): string
    {
        $html = [];
        foreach (preg_split('/\n{2,}/', trim($text)) as $block) {
            $html[] = $this->renderBlock($block);
        }
        return implode("\n", $html);
    }

    private function renderBlock(string $block): string
    {
        $escaped = htmlspecialchars($block, ENT_QUOTES);
        if (preg_match('/^(#{1,6}) (.*)$/', $escaped, $m)) {
            $level = strlen($m[1]);
            return "<h$level>{$m[2]}</h$level>";
        }
        $escaped = preg_replace('/\*\*(.+?)\*\*/', '<strong>$1</strong>', $escaped);
        $escaped = preg_replace('/\[(.+?)\]\((https?:[^)]+)\)/', '<a href="$2">$1</a>', $escaped);
        return "<p>$escaped</p>";
    }
}
