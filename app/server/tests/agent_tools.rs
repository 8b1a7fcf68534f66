//! The agent's tools as the local worker sees them: their schemas become one
//! grammar, so a local model's tool call always parses.

use autocrea_inference::structured::{self, ToolChoice, ToolSpec};

#[test]
fn the_agent_tools_compile_to_one_grammar() {
    let specs: Vec<ToolSpec> = autocrea_core::agent::tools::definitions()
        .iter()
        .map(|d| ToolSpec {
            name: d["function"]["name"].as_str().unwrap().to_string(),
            description: d["function"]["description"].as_str().unwrap().to_string(),
            parameters: d["function"]["parameters"].clone(),
        })
        .collect();
    let grammar = structured::tools_grammar(&specs, &ToolChoice::Required)
        .expect("the schemas convert")
        .expect("a grammar for required calls");
    for name in autocrea_core::agent::tools::NAMES {
        assert!(grammar.contains(name), "{name} in the grammar");
    }
}
