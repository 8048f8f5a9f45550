//! The consumption report as PDF (`saldos/pdf`): the CSV's figures and sections on A4 pages,
//! set in the standard Helvetica fonts with WinAnsiEncoding, so nothing is embedded.
//!
//! Seed 002 shows no PDF, only says one is attached; the layout here is ours. The output is
//! deterministic: the same report gives the same bytes (its date is `FechaActual`).

use chrono::{Datelike, NaiveDateTime, NaiveTime, Timelike};
use pdf_writer::{Content, Date, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use super::report_csv::us_datetime;
use crate::domain::sovos::ledger::{Detalle, Report};

/// A4, in points.
const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const LEFT: f32 = 56.0;
const RIGHT: f32 = PAGE_WIDTH - 56.0;
/// No row is set below this line; the page number sits under it.
const BOTTOM: f32 = 72.0;
const FOOTER_Y: f32 = 40.0;
const ROW_HEIGHT: f32 = 15.0;

/// Where the table's columns start (the amount is right-aligned on `RIGHT`).
const COL_RFC: f32 = LEFT;
const COL_FECHA: f32 = 160.0;
const COL_TIPO: f32 = 290.0;
/// Room left for the movement type before the amount column (which holds 16 digits).
const TIPO_WIDTH: f32 = RIGHT - 90.0 - COL_TIPO;
/// Room for an RFC: a 13-character RFC takes about 80 points.
const RFC_WIDTH: f32 = COL_FECHA - COL_RFC - 8.0;
/// Room for a line of the header.
const LINE_WIDTH: f32 = RIGHT - LEFT;

/// Where the figures' values are right-aligned.
const FIGURES_RIGHT: f32 = 300.0;

/// The table header's baseline on the first page and on the following ones.
const TABLE_Y_FIRST: f32 = 536.0;
const TABLE_Y_NEXT: f32 = 736.0;

const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

/// The report as a PDF file. Rows that do not fit on the first page continue on further
/// pages, each with the table's header again.
pub fn render(report: &Report) -> Vec<u8> {
    let pages = paginate(&report.rows);

    let catalog_id = Ref::new(1);
    let tree_id = Ref::new(2);
    let regular_id = Ref::new(3);
    let bold_id = Ref::new(4);
    let info_id = Ref::new(5);
    // Each page takes two ids: itself and its content stream.
    let page_ids: Vec<(Ref, Ref)> = (0..pages.len())
        .map(|index| {
            let base = 6 + 2 * i32::try_from(index).unwrap_or(i32::MAX / 4);
            (Ref::new(base), Ref::new(base + 1))
        })
        .collect();

    let mut pdf = Pdf::new();
    pdf.catalog(catalog_id).pages(tree_id);
    pdf.pages(tree_id)
        .kids(page_ids.iter().map(|(page, _)| *page))
        .count(i32::try_from(page_ids.len()).unwrap_or(i32::MAX));
    pdf.type1_font(regular_id)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold_id)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));

    let title = format!(
        "Reporte de consumo {} {}",
        report.cuenta,
        report.fecha_inicio.format("%Y-%m")
    );
    pdf.document_info(info_id)
        .title(TextStr(&title))
        .producer(TextStr("einvoice-mock"))
        .creation_date(pdf_date(report.fecha_actual));

    let total = pages.len();
    for (index, (rows, (page_id, content_id))) in pages.iter().zip(&page_ids).enumerate() {
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT));
        page.parent(tree_id);
        page.contents(*content_id);
        page.resources()
            .fonts()
            .pair(REGULAR, regular_id)
            .pair(BOLD, bold_id);
        page.finish();

        let content = page_content(report, rows, index + 1, total);
        pdf.stream(*content_id, &content.finish());
    }
    pdf.finish()
}

/// The rows each page holds; always at least one page, even with no rows.
fn paginate(rows: &[Detalle]) -> Vec<&[Detalle]> {
    let first = rows_below(TABLE_Y_FIRST);
    let next = rows_below(TABLE_Y_NEXT);
    let (head, mut rest) = rows.split_at(first.min(rows.len()));
    let mut pages = vec![head];
    while !rest.is_empty() {
        let (page, tail) = rest.split_at(next.min(rest.len()));
        pages.push(page);
        rest = tail;
    }
    pages
}

/// How many rows fit under a table header set at `header_y`.
fn rows_below(header_y: f32) -> usize {
    let mut count = 0;
    while row_y(header_y, count) >= BOTTOM {
        count += 1;
    }
    count
}

/// The baseline of row `index` under a table header at `header_y`.
fn row_y(header_y: f32, index: usize) -> f32 {
    header_y - 20.0 - ROW_HEIGHT * index as f32
}

/// One page: the full header on the first, a reminder of account and period on the others.
fn page_content(report: &Report, rows: &[Detalle], number: usize, total: usize) -> Content {
    let mut page = Page::new();
    let periodo = format!(
        "{} al {}",
        report.fecha_inicio.format("%Y-%m-%d"),
        report.fecha_fin.format("%Y-%m-%d")
    );

    let table_y = if number == 1 {
        page.text(BOLD, 18.0, LEFT, 786.0, "Reporte de consumo");
        page.text(
            REGULAR,
            11.0,
            LEFT,
            762.0,
            &format!("Cuenta: {}", report.cuenta),
        );
        page.text(
            REGULAR,
            11.0,
            LEFT,
            746.0,
            &format!("Tipo de consumo: {}", report.tipo_consumo),
        );
        page.text(
            REGULAR,
            11.0,
            LEFT,
            730.0,
            &format!("Periodo de consulta: {periodo}"),
        );
        page.text(
            REGULAR,
            11.0,
            LEFT,
            714.0,
            &format!(
                "Fecha actual: {}",
                report.fecha_actual.format("%Y-%m-%dT%H:%M:%S")
            ),
        );

        page.text(BOLD, 12.0, LEFT, 684.0, "Estado de los RFC");
        page.figure(666.0, "Registrados", report.registrados);
        page.figure(650.0, "Autorizados", report.autorizados);
        page.figure(634.0, "Generaron timbre", report.generaron_timbre);

        page.text(BOLD, 12.0, LEFT, 604.0, "Transacciones");
        page.figure(586.0, "Consumo de todos los RFC:", report.transacciones);

        page.text(BOLD, 12.0, LEFT, 556.0, "Detalle de movimientos");
        TABLE_Y_FIRST
    } else {
        page.text(BOLD, 14.0, LEFT, 786.0, "Reporte de consumo (continuación)");
        page.text(
            REGULAR,
            10.0,
            LEFT,
            766.0,
            &fit(
                &format!("Cuenta: {}   Periodo de consulta: {periodo}", report.cuenta),
                REGULAR,
                10.0,
                LINE_WIDTH,
            ),
        );
        TABLE_Y_NEXT
    };

    page.text(BOLD, 10.0, COL_RFC, table_y, "RFC");
    page.text(BOLD, 10.0, COL_FECHA, table_y, "Fecha");
    page.text(BOLD, 10.0, COL_TIPO, table_y, "Tipo movimiento");
    page.text_right(BOLD, 10.0, RIGHT, table_y, "Monto");
    page.rule(table_y - 5.0);

    if rows.is_empty() {
        page.text(
            REGULAR,
            10.0,
            LEFT,
            row_y(table_y, 0),
            "Sin movimientos en el periodo.",
        );
    }
    for (index, row) in rows.iter().enumerate() {
        let y = row_y(table_y, index);
        page.text(
            REGULAR,
            10.0,
            COL_RFC,
            y,
            &fit(&row.rfc, REGULAR, 10.0, RFC_WIDTH),
        );
        page.text(
            REGULAR,
            10.0,
            COL_FECHA,
            y,
            &us_datetime(row.fecha.and_time(NaiveTime::MIN)),
        );
        page.text(
            REGULAR,
            10.0,
            COL_TIPO,
            y,
            &fit(&row.tipo_movimiento, REGULAR, 10.0, TIPO_WIDTH),
        );
        page.text_right(REGULAR, 10.0, RIGHT, y, &row.monto.to_string());
    }

    page.text_right(
        REGULAR,
        9.0,
        RIGHT,
        FOOTER_Y,
        &format!("Página {number} de {total}"),
    );
    page.content
}

/// A content stream being written. Each text is its own text object, so that extractors
/// read one item per line.
struct Page {
    content: Content,
}

impl Page {
    fn new() -> Page {
        Page {
            content: Content::new(),
        }
    }

    fn text(&mut self, font: Name<'_>, size: f32, x: f32, y: f32, text: &str) {
        self.content
            .begin_text()
            .set_font(font, size)
            .next_line(x, y)
            .show(Str(&win_ansi(text)))
            .end_text();
    }

    fn text_right(&mut self, font: Name<'_>, size: f32, right: f32, y: f32, text: &str) {
        self.text(font, size, right - text_width(text, font, size), y, text);
    }

    /// A label and its figure, right-aligned.
    fn figure(&mut self, y: f32, label: &str, value: u64) {
        self.text(REGULAR, 11.0, LEFT + 12.0, y, label);
        self.text_right(REGULAR, 11.0, FIGURES_RIGHT, y, &value.to_string());
    }

    /// A thin horizontal line across the text area.
    fn rule(&mut self, y: f32) {
        self.content
            .set_line_width(0.5)
            .move_to(LEFT, y)
            .line_to(RIGHT, y)
            .stroke();
    }
}

/// `text` cut with an ellipsis so that it is at most `max` points wide.
fn fit(text: &str, font: Name<'_>, size: f32, max: f32) -> String {
    if text_width(text, font, size) <= max {
        return text.to_owned();
    }
    let mut kept = String::new();
    for c in text.chars() {
        kept.push(c);
        if text_width(&format!("{kept}…"), font, size) > max {
            kept.pop();
            break;
        }
    }
    format!("{kept}…")
}

/// The width of `text` in points. Exact for ASCII (Adobe's Helvetica metrics); other
/// characters count as a digit's width, close enough for Spanish accented letters.
fn text_width(text: &str, font: Name<'_>, size: f32) -> f32 {
    let widths = if font == BOLD {
        &HELVETICA_BOLD_WIDTHS
    } else {
        &HELVETICA_WIDTHS
    };
    let units: u32 = text
        .chars()
        .map(|c| {
            let code = u32::from(c);
            match code.checked_sub(32) {
                Some(index) if code < 127 => u32::from(widths[index as usize]),
                _ => 556,
            }
        })
        .sum();
    units as f32 * size / 1000.0
}

/// Glyph widths of Helvetica for WinAnsi codes 32–126, in 1/1000 em (Adobe's AFM).
const HELVETICA_WIDTHS: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, //
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, //
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, //
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, //
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, //
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];

/// Glyph widths of Helvetica-Bold for WinAnsi codes 32–126, in 1/1000 em (Adobe's AFM).
const HELVETICA_BOLD_WIDTHS: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, //
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, //
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778, //
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, //
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, //
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
];

/// `text` in WinAnsiEncoding (Windows-1252), the encoding the fonts declare. Characters it
/// lacks, and control characters, become `?`.
pub fn win_ansi(text: &str) -> Vec<u8> {
    text.chars().map(win_ansi_byte).collect()
}

/// The WinAnsi byte of one character, or `?`.
fn win_ansi_byte(c: char) -> u8 {
    let code = u32::from(c);
    match code {
        // Printable ASCII and Latin-1 are the same bytes.
        0x20..=0x7E | 0xA0..=0xFF => u8::try_from(code).unwrap_or(b'?'),
        _ => match c {
            '€' => 0x80,
            '‚' => 0x82,
            'ƒ' => 0x83,
            '„' => 0x84,
            '…' => 0x85,
            '†' => 0x86,
            '‡' => 0x87,
            'ˆ' => 0x88,
            '‰' => 0x89,
            'Š' => 0x8A,
            '‹' => 0x8B,
            'Œ' => 0x8C,
            'Ž' => 0x8E,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '˜' => 0x98,
            '™' => 0x99,
            'š' => 0x9A,
            '›' => 0x9B,
            'œ' => 0x9C,
            'ž' => 0x9E,
            'Ÿ' => 0x9F,
            _ => b'?',
        },
    }
}

/// The PDF date of `FechaActual` (local time, no zone, as the API's own timestamps).
fn pdf_date(datetime: NaiveDateTime) -> Date {
    let byte = |value: u32| u8::try_from(value).unwrap_or(0);
    Date::new(u16::try_from(datetime.year()).unwrap_or(0))
        .month(byte(datetime.month()))
        .day(byte(datetime.day()))
        .hour(byte(datetime.hour()))
        .minute(byte(datetime.minute()))
        .second(byte(datetime.second()))
}

// A failed unwrap is a failed test, which is what a test wants.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::sovos::ledger::{Account, Month, CONSUMO_DE_TIMBRE};
    use chrono::NaiveDate;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").unwrap()
    }

    fn october() -> Month {
        "2019-10".parse().unwrap()
    }

    fn seed_report() -> Report {
        Account::default_seed().report(october(), at("2019-11-20T16:57:53"))
    }

    fn page_texts(pdf: &[u8]) -> Vec<String> {
        let document = lopdf::Document::load_mem(pdf).unwrap();
        let pages = document.get_pages().len() as u32;
        (1..=pages)
            .map(|page| document.extract_text(&[page]).unwrap())
            .collect()
    }

    #[test]
    fn the_report_is_a_complete_pdf_file() {
        let pdf = render(&seed_report());
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(pdf.ends_with(b"%%EOF"));
        let document = lopdf::Document::load_mem(&pdf).unwrap();
        assert_eq!(document.get_pages().len(), 1);
    }

    #[test]
    fn the_page_holds_the_report_s_figures_and_sections() {
        let text = page_texts(&render(&seed_report())).remove(0);
        for expected in [
            "Reporte de consumo",
            "Cuenta: Pruebas",
            "Tipo de consumo: Postpago",
            "Periodo de consulta: 2019-10-01 al 2019-10-31",
            "Fecha actual: 2019-11-20T16:57:53",
            "Estado de los RFC",
            "Registrados\n0\n",
            "Autorizados\n2\n",
            "Generaron timbre\n1\n",
            "Transacciones",
            "Consumo de todos los RFC:\n3\n",
            "RFC\nFecha\nTipo movimiento\nMonto\n",
            "AAA010101AAA\n10/17/2019 12:00:00 AM\nConsumo de timbre\n3\n",
            "Página 1 de 1",
        ] {
            assert!(text.contains(expected), "{expected:?} not in {text:?}");
        }
        assert!(
            !text.contains("A&D061009TY8"),
            "November's RFC is not in October"
        );
    }

    #[test]
    fn the_same_report_gives_the_same_bytes() {
        assert_eq!(render(&seed_report()), render(&seed_report()));
    }

    #[test]
    fn spanish_accents_survive_winansi_encoding() {
        let mut account = Account::default_seed();
        account.cuenta = "Compañía Ñandú, S.A. — Año “2019” €".to_owned();
        let pdf = render(&account.report(october(), at("2019-11-20T16:57:53")));
        let text = page_texts(&pdf).remove(0);
        assert!(
            text.contains("Cuenta: Compañía Ñandú, S.A. — Año “2019” €"),
            "{text:?}"
        );
    }

    #[test]
    fn characters_outside_winansi_become_question_marks() {
        assert_eq!(win_ansi("Año"), b"A\xF1o");
        assert_eq!(win_ansi("é€…"), b"\xE9\x80\x85");
        assert_eq!(win_ansi("日本\t"), b"???");
        assert_eq!(win_ansi("\u{81}"), b"?");
    }

    #[test]
    fn an_empty_month_says_there_are_no_movements() {
        let report =
            Account::default_seed().report("2019-12".parse().unwrap(), at("2020-01-02T09:05:07"));
        let text = page_texts(&render(&report)).remove(0);
        assert!(text.contains("Sin movimientos en el periodo."));
        assert!(text.contains("Consumo de todos los RFC:\n0\n"));
        assert!(text.contains("2019-12-01 al 2019-12-31"));
    }

    #[test]
    fn many_rows_continue_on_further_pages() {
        let mut report = seed_report();
        let first = NaiveDate::from_ymd_opt(2019, 10, 1).unwrap();
        report.rows = (0..100)
            .map(|n| Detalle {
                rfc: format!("RFC{n:03}"),
                fecha: first,
                tipo_movimiento: CONSUMO_DE_TIMBRE.to_owned(),
                monto: n,
            })
            .collect();
        let texts = page_texts(&render(&report));
        assert!(texts.len() > 1);
        let last = texts.len();
        assert!(texts[last - 1].contains(&format!("Página {last} de {last}")));
        assert!(texts[1].contains("Reporte de consumo (continuación)"));
        // Every row is set exactly once.
        let all = texts.concat();
        for n in 0..100 {
            assert_eq!(all.matches(&format!("RFC{n:03}\n")).count(), 1, "RFC{n:03}");
        }
        // No row falls below the bottom margin, nor is a page's table ever empty.
        for page in paginate(&report.rows) {
            assert!(!page.is_empty());
        }
    }

    #[test]
    fn a_long_movement_type_is_cut_to_its_column() {
        let long = "Consumo de timbre por cancelación de comprobantes fiscales digitales";
        let cut = fit(long, REGULAR, 10.0, TIPO_WIDTH);
        assert!(cut.ends_with('…'));
        assert!(text_width(&cut, REGULAR, 10.0) <= TIPO_WIDTH);
        assert_eq!(
            fit(CONSUMO_DE_TIMBRE, REGULAR, 10.0, TIPO_WIDTH),
            CONSUMO_DE_TIMBRE
        );
    }
}
