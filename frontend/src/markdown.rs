//! Model output as HTML that can never run anything: Markdown through
//! pulldown-cmark with every raw HTML block and inline tag turned into
//! text, link targets limited to http(s), mailto, relative paths and
//! anchors, and images shown as links (nothing is fetched from a model's
//! URL). Code blocks get a copy button and their language for highlighting.

use pulldown_cmark::{CodeBlockKind, CowStr, Event, Options, Parser, Tag, TagEnd};

/// A link target a model may point to; anything else becomes `#`.
fn safe_url(url: &str) -> bool {
    let u = url.trim().to_ascii_lowercase();
    if u.starts_with("http://")
        || u.starts_with("https://")
        || u.starts_with("mailto:")
        || u.starts_with('#')
    {
        return true;
    }
    // Relative: no scheme at all (a colon before any slash, ? or # would be one).
    let head = u.split(['/', '?', '#']).next().unwrap_or("");
    !head.contains(':') && !u.starts_with("//")
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub fn to_html(markdown: &str) -> String {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);
    options.insert(Options::ENABLE_TASKLISTS);
    let mut in_image = false;
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        // Raw HTML from the model is shown, never parsed.
        Event::Html(html) | Event::InlineHtml(html) => Event::Text(html),
        Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
            let dest_url = if safe_url(&dest_url) { dest_url } else { CowStr::from("#") };
            Event::Start(Tag::Link { link_type, dest_url, title, id })
        }
        // An image becomes a link with its alt text.
        Event::Start(Tag::Image { dest_url, .. }) => {
            in_image = true;
            let href = if safe_url(&dest_url) { escape(&dest_url) } else { "#".into() };
            Event::Html(CowStr::from(format!("<a href=\"{href}\">")))
        }
        Event::End(TagEnd::Image) if in_image => {
            in_image = false;
            Event::Html(CowStr::from("</a>"))
        }
        Event::Start(Tag::CodeBlock(kind)) => {
            let lang = match kind {
                CodeBlockKind::Fenced(l) => l.split_whitespace().next().unwrap_or("").to_ascii_lowercase(),
                CodeBlockKind::Indented => String::new(),
            };
            let lang: String = lang.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '+').take(20).collect();
            Event::Html(CowStr::from(format!(
                "<div class=\"code-block\"><button type=\"button\" class=\"copy\" aria-label=\"Copy code\">Copy</button><pre><code data-lang=\"{lang}\">"
            )))
        }
        Event::End(TagEnd::CodeBlock) => Event::Html(CowStr::from("</code></pre></div>")),
        e => e,
    });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events);
    // Links open outside the console and tell nothing about it.
    html.replace(
        "<a href=",
        "<a rel=\"noopener noreferrer\" target=\"_blank\" href=",
    )
}

#[cfg(test)]
mod tests {
    use super::to_html;

    #[test]
    fn raw_html_and_script_urls_are_inert() {
        let html = to_html(
            "Hi <img src=x onerror=alert(1)> there\n\n<script>alert(2)</script>\n\n[click](javascript:alert(3)) \
             [ok](https://example.com) [rel](docs/a.md) ![pic](javascript:alert(4)) [data](data:text/html,x) [proto](//evil.example)",
        );
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(
            html.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{html}"
        );
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.to_lowercase().contains("javascript:"), "{html}");
        assert!(!html.contains("data:text"), "{html}");
        assert!(!html.contains("\"//evil"), "{html}");
        assert!(
            html.contains("href=\"https://example.com\"") && html.contains("href=\"docs/a.md\""),
            "{html}"
        );
    }

    #[test]
    fn code_blocks_get_a_copy_button_and_their_language() {
        let html = to_html("```js\nconst a = '<b>';\n```");
        assert!(
            html.contains("<button type=\"button\" class=\"copy\""),
            "{html}"
        );
        assert!(
            html.contains("<code data-lang=\"js\">const a = &#39;&lt;b&gt;&#39;;")
                || html.contains("<code data-lang=\"js\">const a = '&lt;b&gt;';"),
            "{html}"
        );
        let evil = to_html("```js\" onmouseover=\"alert(1)\nx\n```");
        assert!(!evil.contains("onmouseover=\""), "{evil}");
    }
}
