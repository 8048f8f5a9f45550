//! The work budget of one validation.
//!
//! Validation is linear in the document, but a document within the body limit can still hold
//! tens of thousands of values, each a violation. The budget bounds what one document may cost:
//! a step is one JSON value, or one KiB of text (strings, which patterns read whole, and
//! property names, which are hashed, copied and quoted in findings). Past
//! [`MAX_VALIDATION_STEPS`](super::MAX_VALIDATION_STEPS) only the prefix of the document that
//! fits, in document order, is validated, and the findings start with a `workBudget` violation.

use serde_json::Value;

use super::document::{Document, Node, Visited, Writer};
use super::violation::{InstancePath, PathSegment, Violation, ViolationKind};

/// What one step is worth in bytes of text.
const BYTES_PER_STEP: usize = 1024;

/// The cost of one value on its own, in bytes: a step, and its text (its children are
/// counted apart).
fn own_cost(node: Node<'_>) -> usize {
    BYTES_PER_STEP.saturating_add(node.as_str().map_or(0, str::len))
}

/// The work of validating `value`: one step per value and per KiB of text (strings and
/// property names). Linear in the document; what the budget is compared with.
pub fn validation_steps(value: &Value) -> usize {
    facts(&Document::from_value(value)).steps
}

/// What one walk of a document tells the engine before it validates: the document's cost in
/// [`validation_steps`], and whether it holds a number or a whole-number float (the checks
/// that then walk it along the schema). One walk, where each was a walk of its own.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Facts {
    pub(super) steps: usize,
    pub(super) number: bool,
    pub(super) whole_float: bool,
}

pub(super) fn facts(document: &Document) -> Facts {
    // One pass over the document's values in order: no recursion, no lookups.
    let mut facts = Facts::default();
    let mut cost = 0usize;
    document.visit(|visited| match visited {
        Visited::Name(len) => cost = cost.saturating_add(len),
        Visited::String(len) => cost = cost.saturating_add(BYTES_PER_STEP + len),
        Visited::Number(n) => {
            cost = cost.saturating_add(BYTES_PER_STEP);
            facts.number = true;
            if n.is_f64() && n.as_f64().is_some_and(|f| f.fract() == 0.0) {
                facts.whole_float = true;
            }
        }
        Visited::Other => cost = cost.saturating_add(BYTES_PER_STEP),
    });
    facts.steps = cost / BYTES_PER_STEP;
    facts
}

/// The part of a document that fits the budget.
pub(super) struct Prefix {
    /// The document up to the value where the budget ran out.
    pub(super) document: Document,
    /// The objects and arrays that lost members to the cut.
    cut: Vec<InstancePath>,
}

impl Prefix {
    /// Whether `violation` only exists because the cut removed members: a `required`
    /// property or a `minItems` bound of a container that lost members.
    pub(super) fn is_cut_artifact(&self, violation: &Violation) -> bool {
        let segments = violation.path.segments();
        let node = match violation.kind {
            ViolationKind::Required { .. } => &segments[..segments.len().saturating_sub(1)],
            ViolationKind::MinItems { .. } => segments,
            _ => return false,
        };
        self.cut.iter().any(|cut| cut.segments() == node)
    }
}

/// The prefix of `document` that costs at most `budget` steps (for a document that costs
/// more: [`facts`] says so), written as a document of its own.
pub(super) fn prefix(document: &Document, budget: usize) -> Prefix {
    let mut left = budget.saturating_mul(BYTES_PER_STEP);
    let mut cut = Vec::new();
    let mut out = Writer::new();
    take(
        document.root(),
        &mut left,
        &mut Vec::new(),
        &mut cut,
        &mut out,
    );
    Prefix {
        document: out.finish(),
        cut,
    }
}

/// One step of the path to the value being taken, borrowed from the document: a path is
/// only made of them when a container is cut.
#[derive(Clone, Copy)]
enum Step<'d> {
    Key(&'d str),
    Index(usize),
}

fn cut_at(path: &[Step<'_>]) -> InstancePath {
    InstancePath(
        path.iter()
            .map(|step| match *step {
                Step::Key(key) => PathSegment::Key(key.to_owned()),
                Step::Index(index) => PathSegment::Index(index),
            })
            .collect(),
    )
}

fn take<'d>(
    node: Node<'d>,
    left: &mut usize,
    path: &mut Vec<Step<'d>>,
    cut: &mut Vec<InstancePath>,
    out: &mut Writer,
) {
    *left = left.saturating_sub(own_cost(node));
    if node.is_array() {
        let at = out.open();
        let mut kept = 0;
        for (index, item) in node.items().enumerate() {
            if *left == 0 {
                break;
            }
            path.push(Step::Index(index));
            take(item, left, path, cut, out);
            path.pop();
            kept += 1;
        }
        if kept < node.len() {
            cut.push(cut_at(path));
        }
        out.close(at, false, kept);
    } else if node.is_object() {
        let at = out.open();
        let mut kept = 0;
        for (key, child) in node.members() {
            if *left == 0 {
                break;
            }
            *left = left.saturating_sub(key.len());
            path.push(Step::Key(key));
            out.name(key);
            take(child, left, path, cut, out);
            path.pop();
            kept += 1;
        }
        if kept < node.len() {
            cut.push(cut_at(path));
        }
        out.close(at, true, kept);
    } else {
        out.scalar(node);
    }
}

/// The first finding of a document over the budget.
pub(super) fn budget_hit() -> Violation {
    let kind = ViolationKind::Other {
        name: "workBudget".to_owned(),
    };
    Violation {
        path: InstancePath::default(),
        message: format!(
            "the document costs more than {} validation steps (einvoice-mock's work budget): only the findings before that point are listed after this one",
            super::MAX_VALIDATION_STEPS
        ),
        kind,
    }
}
