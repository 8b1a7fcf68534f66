//! The project templates people choose from. Their starter files and sandbox
//! images arrive with the sandbox issue; the catalogue is the contract.

pub use autocrea_wire::projects::TemplateView;

/// A template of the catalogue (static data; `view` is what the API sends).
#[derive(Debug, Clone)]
pub struct Template {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    /// Languages and tools, for the template card.
    pub stack: &'static [&'static str],
}

impl Template {
    pub fn view(&self) -> TemplateView {
        TemplateView {
            id: self.id.into(),
            name: self.name.into(),
            description: self.description.into(),
            stack: self.stack.iter().map(|s| s.to_string()).collect(),
        }
    }
}

pub const TEMPLATES: &[Template] = &[
    Template {
        id: "static",
        name: "Static site",
        description: "Plain HTML, CSS and JavaScript with live reload. Best for landing pages and small tools.",
        stack: &["HTML", "CSS", "JavaScript"],
    },
    Template {
        id: "vite-react",
        name: "React (Vite)",
        description: "A single-page React app built with Vite and TypeScript. Best for interactive front ends.",
        stack: &["React", "TypeScript", "Vite"],
    },
    Template {
        id: "nextjs",
        name: "Next.js",
        description: "A full-stack React app with server rendering and API routes.",
        stack: &["Next.js", "React", "TypeScript"],
    },
];

pub const DEFAULT_TEMPLATE: &str = "static";

pub fn find(id: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|t| t.id == id)
}
