//! `textDocument/hover`: what the rules say about the resource under the
//! cursor (each rule's `explain`: the control, why it matters, what applying
//! a fix does, and this resource's verdict). Only converted here.

use tower_lsp::lsp_types::{Hover, HoverContents, HoverParams, MarkupContent, MarkupKind};

use svl_analysis::module::FileKind;

use crate::convert;
use crate::diagnostics::current_analysis;
use crate::session::Session;

pub fn hover(session: &Session, params: &HoverParams) -> Option<Hover> {
    if !session.config().enable {
        return None;
    }
    let uri = &params.text_document_position_params.text_document.uri;
    let analysed = current_analysis(session, uri)?;
    if !matches!(analysed.kind, FileKind::Hcl | FileKind::Json) {
        return None;
    }
    let encoding = session.encoding();
    let (offset, _) = convert::offset(
        &analysed.rope,
        params.text_document_position_params.position,
        encoding,
    );
    let explanation = svl_analysis::explain(&analysed.facts, &analysed.frames, offset)?;
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: explanation.markdown,
        }),
        range: Some(convert::range(&analysed.rope, explanation.span, encoding)),
    })
}
