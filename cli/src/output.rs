//! What commands print: one resource as fields, or a list as rows, in
//! cliff's formats (table, json, yaml, value, csv, shell). Tables show
//! human values (a volume's name); the machine formats keep raw ones (its
//! ID). Lists are written row by row as pages arrive, except tables, which
//! need every row to size their columns.

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::{Map, Value};

use crate::Failure;
use crate::args::{ListFormat, ListOutput, Quote, ShowFormat, ShowOutput};

/// One value: what machine formats print, and what a table shows when it
/// differs (a name for an ID).
#[derive(Debug, Clone)]
pub struct Cell {
    pub value: Value,
    pub human: Option<String>,
}

impl Cell {
    pub fn new(value: impl Into<Value>) -> Self {
        Self { value: value.into(), human: None }
    }

    pub fn shown_as(mut self, human: impl Into<String>) -> Self {
        self.human = Some(human.into());
        self
    }

    fn table_text(&self) -> String {
        self.human.clone().unwrap_or_else(|| text(&self.value))
    }
}

/// A value as python-openstackclient prints it: `None`, `True`/`False`,
/// dicts as `key='value', …`, lists comma-separated.
pub fn text(value: &Value) -> String {
    match value {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Object(map) => map.iter().map(|(k, v)| format!("{k}='{}'", text(v))).collect::<Vec<_>>().join(", "),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(", "),
    }
}

/// The fields of a resource: its JSON object, with keys renamed and dropped
/// as the command says, sorted by name.
pub fn fields_of(item: &impl serde::Serialize, rename: &[(&str, &str)], drop: &[&str]) -> Vec<(String, Cell)> {
    let Ok(Value::Object(map)) = serde_json::to_value(item) else { return Vec::new() };
    let mut out: Vec<(String, Cell)> = map
        .into_iter()
        .filter(|(k, _)| !drop.contains(&k.as_str()))
        .map(|(k, v)| {
            let name = rename.iter().find(|(from, _)| *from == k).map_or(k, |(_, to)| (*to).to_owned());
            (name, Cell::new(v))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn stdout_error(e: std::io::Error) -> Failure {
    Failure::Output(e)
}

/// Prints one resource.
pub fn show(fields: Vec<(String, Cell)>, out: &ShowOutput, table_names: &[(&str, &str)]) -> Result<(), Failure> {
    let fields = select(fields, &out.columns, |(name, _)| name.as_str())?;
    let mut stdout = std::io::stdout().lock();
    match out.format {
        ShowFormat::Table => {
            if fields.is_empty() {
                return Ok(());
            }
            let mut table = new_table(&out.common);
            table.set_header(vec!["Field", "Value"]);
            for (name, cell) in &fields {
                let label = table_names.iter().find(|(from, _)| *from == name).map_or(name.as_str(), |(_, to)| *to);
                table.add_row(vec![label.to_owned(), cell.table_text()]);
            }
            writeln!(stdout, "{table}").map_err(stdout_error)
        }
        ShowFormat::Json => {
            let map: Map<String, Value> = fields.into_iter().map(|(k, c)| (k, c.value)).collect();
            write_json(&mut stdout, &Value::Object(map), out.common.noindent)
        }
        ShowFormat::Yaml => {
            let map: BTreeMap<String, Value> = fields.into_iter().map(|(k, c)| (k, c.value)).collect();
            let text = serde_norway::to_string(&map).map_err(|e| Failure::Other(format!("yaml: {e}")))?;
            write!(stdout, "{text}").map_err(stdout_error)
        }
        ShowFormat::Value => {
            for (_, cell) in &fields {
                writeln!(stdout, "{}", text(&cell.value)).map_err(stdout_error)?;
            }
            Ok(())
        }
        ShowFormat::Shell => {
            for (name, cell) in &fields {
                let var: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
                let value = text(&cell.value).replace('\\', "\\\\").replace('"', "\\\"");
                writeln!(stdout, "{}{var}=\"{value}\"", out.prefix).map_err(stdout_error)?;
            }
            Ok(())
        }
    }
}

fn write_json(w: &mut impl Write, value: &Value, noindent: bool) -> Result<(), Failure> {
    let text = if noindent { serde_json::to_string(value) } else { serde_json::to_string_pretty(value) };
    writeln!(w, "{}", text.map_err(|e| Failure::Other(format!("json: {e}")))?).map_err(stdout_error)
}

fn new_table(common: &crate::args::OutputCommon) -> comfy_table::Table {
    use std::io::IsTerminal;
    let mut table = comfy_table::Table::new();
    // python-openstackclient's (PrettyTable's) look: `+---+` around the
    // header and the table, no lines between rows.
    table.load_style(
        comfy_table::presets::ASCII_FULL_CONDENSED.header_separator(comfy_table::LineStyle::new('+', '-', '+', '+')),
    );
    // On a terminal (or when asked) the table fits its width; a pipe gets
    // whole lines.
    let fit = common.fit_width || common.max_width > 0 || std::io::stdout().is_terminal();
    table.set_content_arrangement(if fit {
        comfy_table::ContentArrangement::Dynamic
    } else {
        comfy_table::ContentArrangement::Disabled
    });
    if common.max_width > 0 {
        table.set_width(common.max_width.min(u16::MAX as usize) as u16);
    }
    table
}

/// `-c` keeps these columns, in the order given; a name the command does
/// not have is a usage error listing the ones it has.
fn select<T>(items: Vec<T>, wanted: &[String], name: impl Fn(&T) -> &str) -> Result<Vec<T>, Failure> {
    if wanted.is_empty() {
        return Ok(items);
    }
    let known: Vec<String> = items.iter().map(|i| name(i).to_owned()).collect();
    if let Some(unknown) = wanted.iter().find(|w| !known.contains(w)) {
        return Err(Failure::Usage(format!("no column {unknown:?} (the columns are: {})", known.join(", "))));
    }
    let mut items: Vec<Option<T>> = items.into_iter().map(Some).collect();
    Ok(wanted.iter().filter_map(|w| known.iter().position(|k| k == w).and_then(|i| items[i].take())).collect())
}

/// Writes a list row by row.
pub struct Rows {
    format: ListFormat,
    headers: Vec<String>,
    keep: Vec<usize>,
    common: crate::args::OutputCommon,
    table: Option<comfy_table::Table>,
    csv: Option<csv::Writer<std::io::Stdout>>,
    written: usize,
}

impl Rows {
    /// A list with these column headers, shown as `out` says.
    pub fn new(headers: &[&str], out: &ListOutput) -> Result<Self, Failure> {
        let indexed: Vec<(usize, &str)> = headers.iter().copied().enumerate().collect();
        let kept = select(indexed, &out.columns, |(_, h)| h)?;
        let keep: Vec<usize> = kept.iter().map(|(i, _)| *i).collect();
        let headers: Vec<String> = kept.iter().map(|(_, h)| (*h).to_owned()).collect();
        let mut rows =
            Self { format: out.format, headers, keep, common: out.common.clone(), table: None, csv: None, written: 0 };
        match out.format {
            ListFormat::Table => {
                let mut table = new_table(&out.common);
                table.set_header(rows.headers.clone());
                rows.table = Some(table);
            }
            ListFormat::Csv => {
                let style = match out.quote {
                    Quote::All => csv::QuoteStyle::Always,
                    Quote::Minimal => csv::QuoteStyle::Necessary,
                    Quote::None => csv::QuoteStyle::Never,
                    Quote::Nonnumeric => csv::QuoteStyle::NonNumeric,
                };
                let mut w = csv::WriterBuilder::new().quote_style(style).from_writer(std::io::stdout());
                w.write_record(&rows.headers).map_err(|e| Failure::Other(format!("csv: {e}")))?;
                rows.csv = Some(w);
            }
            ListFormat::Json => {
                print!("[");
            }
            ListFormat::Yaml | ListFormat::Value => {}
        }
        Ok(rows)
    }

    /// One row, with a cell per header of [`new`](Self::new).
    pub fn push(&mut self, cells: Vec<Cell>) -> Result<(), Failure> {
        let mut cells: Vec<Option<Cell>> = cells.into_iter().map(Some).collect();
        let cells: Vec<Cell> =
            self.keep.iter().map(|i| cells[*i].take().unwrap_or_else(|| Cell::new(Value::Null))).collect();
        let first = self.written == 0;
        self.written += 1;
        let mut stdout = std::io::stdout().lock();
        match self.format {
            ListFormat::Table => {
                if let Some(t) = self.table.as_mut() {
                    t.add_row(cells.iter().map(Cell::table_text).collect::<Vec<_>>());
                }
                Ok(())
            }
            ListFormat::Csv => {
                drop(stdout);
                // As Python's csv module writes them: nothing for None.
                let record: Vec<String> =
                    cells.iter().map(|c| if c.value.is_null() { String::new() } else { text(&c.value) }).collect();
                let w = self.csv.as_mut().expect("made in new");
                w.write_record(&record).map_err(|e| Failure::Other(format!("csv: {e}")))?;
                w.flush().map_err(stdout_error)
            }
            ListFormat::Value => {
                let line: Vec<String> = cells.iter().map(|c| text(&c.value)).collect();
                writeln!(stdout, "{}", line.join(" ")).map_err(stdout_error)
            }
            ListFormat::Json => {
                let map: Map<String, Value> =
                    self.headers.iter().cloned().zip(cells.into_iter().map(|c| c.value)).collect();
                let item = if self.common.noindent {
                    serde_json::to_string(&map)
                } else {
                    serde_json::to_string_pretty(&map).map(|t| t.replace('\n', "\n  "))
                }
                .map_err(|e| Failure::Other(format!("json: {e}")))?;
                let sep = match (first, self.common.noindent) {
                    (true, true) => "",
                    (true, false) => "\n  ",
                    (false, true) => ", ",
                    (false, false) => ",\n  ",
                };
                write!(stdout, "{sep}{item}").map_err(stdout_error)?;
                stdout.flush().map_err(stdout_error)
            }
            ListFormat::Yaml => {
                let map: BTreeMap<String, Value> =
                    self.headers.iter().cloned().zip(cells.into_iter().map(|c| c.value)).collect();
                let text = serde_norway::to_string(&vec![map]).map_err(|e| Failure::Other(format!("yaml: {e}")))?;
                write!(stdout, "{text}").map_err(stdout_error)
            }
        }
    }

    /// Ends the list (prints the table, closes the json array).
    pub fn finish(self) -> Result<(), Failure> {
        let mut stdout = std::io::stdout().lock();
        match self.format {
            ListFormat::Table => match self.table {
                Some(table) if self.written > 0 => writeln!(stdout, "{table}").map_err(stdout_error),
                _ => Ok(()),
            },
            ListFormat::Json => {
                let end = if self.written == 0 || self.common.noindent { "]" } else { "\n]" };
                writeln!(stdout, "{end}").map_err(stdout_error)
            }
            ListFormat::Yaml if self.written == 0 => writeln!(stdout, "[]").map_err(stdout_error),
            ListFormat::Csv | ListFormat::Value | ListFormat::Yaml => Ok(()),
        }
    }
}
