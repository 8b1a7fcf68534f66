//! The conversation with a model: messages in the shape of OpenAI's chat
//! API, the tool calls a model writes and one answer. Shared by the tool
//! loop (`runner`), prompt fitting (`context`) and the text-call reader
//! (`textcalls`), so none of those depends on another for its types.

/// A message of the conversation, in the shape of OpenAI's chat API.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChatMsg {
    /// system, user, assistant or tool
    pub role: &'static str,
    pub content: String,
    pub tool_calls: Vec<Call>,
    pub tool_call_id: Option<String>,
    /// For assistant messages: what the call that wrote it counted.
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Images sent with a user message (to models that accept them).
    pub images: Vec<Image>,
}

/// An image for the model: its media type and its bytes in base64 (shared,
/// as every call of a role sends the conversation again).
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    pub media_type: String,
    pub base64: std::sync::Arc<str>,
}

impl ChatMsg {
    pub fn new(role: &'static str, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub id: String,
    pub name: String,
    /// JSON text, as the model wrote it (it may not parse).
    pub arguments: String,
}

/// One answer of the model.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    pub text: String,
    pub calls: Vec<Call>,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Calls written as text that could not be read (text-format models).
    pub format_errors: Vec<String>,
}
