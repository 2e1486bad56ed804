//! What commands print: one resource as fields, or a list as rows, in
//! cliff's formats (table, json, yaml, value, csv, shell), as
//! python-openstackclient prints them: tables show human values (a
//! volume's name, `k='v'` for a map); the machine formats keep raw ones
//! (its ID) and write what Python's `str()` writes (`None`, `True`,
//! `{'k': 'v'}`), csv with Python's quoting rules. Columns are chosen with
//! `-c` as cliff chooses them. Lists are written row by row as pages
//! arrive, except tables and sorted lists, which need every row first.

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::{Map, Value};

use crate::Failure;
use crate::args::{ListFormat, ListOutput, OutputCommon, Quote, ShowFormat, ShowOutput};

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

/// A value as a table shows it (osc-lib's human-readable forms): `None`,
/// `True`/`False`, maps as `key='value', …` (keys sorted), lists
/// comma-separated.
pub fn text(value: &Value) -> String {
    match value {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Object(map) => {
            let mut pairs: Vec<(&String, &Value)> = map.iter().collect();
            pairs.sort_by(|a, b| a.0.cmp(b.0));
            pairs.iter().map(|(k, v)| format!("{k}='{}'", text(v))).collect::<Vec<_>>().join(", ")
        }
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(", "),
    }
}

/// A value as Python's `str()` writes it: what cliff's value, csv and
/// shell formats print (`None`, `True`, `{'k': 'v'}`, `['a']`).
pub fn python_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => python_repr(other),
    }
}

/// A value as Python's `repr()` writes it.
fn python_repr(value: &Value) -> String {
    match value {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => python_string_repr(s),
        Value::Array(items) => format!("[{}]", items.iter().map(python_repr).collect::<Vec<_>>().join(", ")),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", python_string_repr(k), python_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A string as Python's `repr()` quotes it: single quotes, or double
/// quotes when it holds a single quote and no double one.
fn python_string_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// One csv field as Python's csv module writes it with cliff's settings
/// (`escapechar='\\'`, double quotes doubled): with `nonnumeric`, numbers
/// and booleans (Python's bool is an int) bare and everything else quoted;
/// `all` quotes every field; `minimal` only those that need it; `none`
/// escapes instead.
fn csv_field(value: &Value, quote: Quote) -> String {
    let numeric = matches!(value, Value::Number(_) | Value::Bool(_));
    let text = if value.is_null() { String::new() } else { python_str(value) };
    let special = |c: char| c == ',' || c == '"' || c == '\r' || c == '\n';
    let quoted = |t: &str| format!("\"{}\"", t.replace('"', "\"\""));
    match quote {
        Quote::All => quoted(&text),
        Quote::Nonnumeric if !numeric => quoted(&text),
        Quote::Nonnumeric => text,
        Quote::Minimal if text.contains(special) => quoted(&text),
        Quote::Minimal => text,
        Quote::None => {
            let mut out = String::with_capacity(text.len());
            for c in text.chars() {
                if special(c) || c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
            out
        }
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

/// The fields python-openstackclient shows for a resource, always all of
/// them and in its order: each `(name, key)` takes the resource's JSON
/// value at `key`, null when the server did not send it; a key in
/// `collections` is an empty map or list when absent (the typed client
/// leaves empty ones out, the server sent them).
pub fn fixed_fields(
    item: &impl serde::Serialize,
    fields: &[(&str, &str)],
    collections: &[(&str, Value)],
) -> Vec<(String, Cell)> {
    let map = match serde_json::to_value(item) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    fields
        .iter()
        .map(|(name, key)| {
            let value = map.get(*key).cloned().unwrap_or_else(|| {
                collections.iter().find(|(k, _)| k == key).map_or(Value::Null, |(_, empty)| empty.clone())
            });
            ((*name).to_owned(), Cell::new(value))
        })
        .collect()
}

fn stdout_error(e: std::io::Error) -> Failure {
    Failure::Output(e)
}

/// Prints one resource.
pub fn show(fields: Vec<(String, Cell)>, out: &ShowOutput, table_names: &[(&str, &str)]) -> Result<(), Failure> {
    let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
    let keep = select(&names, &out.columns)?;
    let fields: Vec<(String, Cell)> =
        fields.into_iter().enumerate().filter(|(i, _)| keep.contains(i)).map(|(_, f)| f).collect();
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
                writeln!(stdout, "{}", python_str(&cell.value)).map_err(stdout_error)?;
            }
            Ok(())
        }
        ShowFormat::Shell => {
            // cliff's names: lower case, spaces, colons and dashes as
            // underscores; only double quotes are escaped in values.
            for (name, cell) in &fields {
                let var = name.to_lowercase().replace([' ', ':', '-'], "_");
                if !out.variables.is_empty() && !out.variables.contains(&var) {
                    continue;
                }
                let value = python_str(&cell.value).replace('"', "\\\"");
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

fn new_table(common: &OutputCommon) -> comfy_table::Table {
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
        table.set_width(common.max_width.min(i64::from(u16::MAX)) as u16);
    }
    table
}

/// cliff's column name matching: case-insensitive, underscores for spaces.
fn normalize(name: &str) -> String {
    name.trim().to_lowercase().replace(' ', "_")
}

/// A list of strings as Python writes it: `['a', 'b']`, or a tuple.
fn python_sequence(items: &[&str], tuple: bool) -> String {
    let inner: Vec<String> = items.iter().map(|s| python_string_repr(s)).collect();
    match (tuple, inner.len()) {
        (true, 1) => format!("({},)", inner[0]),
        (true, _) => format!("({})", inner.join(", ")),
        (false, _) => format!("[{}]", inner.join(", ")),
    }
}

/// `-c` as cliff reads it: the command's columns whose normalized name was
/// asked for, in the command's order; a name it does not have is ignored,
/// unless none is known (exit 1, cliff's message). Returns the indexes
/// kept.
fn select(names: &[&str], wanted: &[String]) -> Result<Vec<usize>, Failure> {
    if wanted.is_empty() {
        return Ok((0..names.len()).collect());
    }
    let asked: Vec<String> = wanted.iter().map(|w| normalize(w)).collect();
    let keep: Vec<usize> = (0..names.len()).filter(|i| asked.contains(&normalize(names[*i]))).collect();
    if keep.is_empty() {
        let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
        return Err(Failure::Other(format!(
            "No recognized column names in {}. Recognized columns are {}.",
            python_sequence(&wanted, false),
            python_sequence(names, true)
        )));
    }
    Ok(keep)
}

/// cliff's sort order of two cells: unset values last, then by value
/// (numbers as numbers, booleans as 0 and 1, the rest as text).
fn compare_cells(a: &Value, b: &Value) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let key = |v: &Value| match v {
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::Number(n) => n.as_f64(),
        _ => None,
    };
    match (a.is_null(), b.is_null()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => match (key(a), key(b)) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            _ => python_str(a).cmp(&python_str(b)),
        },
    }
}

/// Writes a list row by row.
pub struct Rows {
    format: ListFormat,
    headers: Vec<String>,
    keep: Vec<usize>,
    common: OutputCommon,
    quote: Quote,
    table: Option<comfy_table::Table>,
    /// Rows kept back until the end: for `--sort-column`.
    sort: Option<(Vec<usize>, bool, Vec<Vec<Cell>>)>,
    written: usize,
}

impl Rows {
    /// A list with these column headers, shown as `out` says.
    pub fn new(headers: &[&str], out: &ListOutput) -> Result<Self, Failure> {
        let keep = select(headers, &out.columns)?;
        let kept: Vec<String> = keep.iter().map(|i| headers[*i].to_owned()).collect();
        // `--sort-column`: by the command's columns, unknown ones ignored.
        let sort_by: Vec<usize> = out
            .sort_columns
            .iter()
            .filter_map(|c| headers.iter().position(|h| *h == c || normalize(h) == normalize(c)))
            .collect();
        let sort = (!sort_by.is_empty()).then(|| (sort_by, out.sort_descending, Vec::new()));
        let mut rows = Self {
            format: out.format,
            headers: kept,
            keep,
            common: out.common.clone(),
            quote: out.quote,
            table: None,
            sort,
            written: 0,
        };
        match out.format {
            ListFormat::Table => {
                let mut table = new_table(&out.common);
                table.set_header(rows.headers.clone());
                rows.table = Some(table);
            }
            ListFormat::Csv => {
                let header: Vec<String> =
                    rows.headers.iter().map(|h| csv_field(&Value::String(h.clone()), out.quote)).collect();
                writeln!(std::io::stdout().lock(), "{}", header.join(",")).map_err(stdout_error)?;
            }
            ListFormat::Json => {
                if rows.sort.is_none() {
                    print!("[");
                }
            }
            ListFormat::Yaml | ListFormat::Value => {}
        }
        Ok(rows)
    }

    /// One row, with a cell per header of [`new`](Self::new).
    pub fn push(&mut self, cells: Vec<Cell>) -> Result<(), Failure> {
        if let Some((_, _, held)) = self.sort.as_mut() {
            held.push(cells);
            return Ok(());
        }
        self.emit(cells)
    }

    fn emit(&mut self, cells: Vec<Cell>) -> Result<(), Failure> {
        let mut cells: Vec<Option<Cell>> = cells.into_iter().map(Some).collect();
        let cells: Vec<Cell> = self
            .keep
            .iter()
            .map(|i| cells.get_mut(*i).and_then(Option::take).unwrap_or_else(|| Cell::new(Value::Null)))
            .collect();
        let first = self.written == 0;
        self.written += 1;
        let mut stdout = std::io::stdout().lock();
        match self.format {
            ListFormat::Table => {
                if let Some(t) = self.table.as_mut() {
                    if first {
                        // PrettyTable's alignment, from the first row's
                        // types: numbers to the right.
                        for (i, cell) in cells.iter().enumerate() {
                            if cell.value.is_number()
                                && let Some(column) = t.column_mut(i)
                            {
                                column.set_cell_alignment(comfy_table::CellAlignment::Right);
                            }
                        }
                    }
                    t.add_row(cells.iter().map(Cell::table_text).collect::<Vec<_>>());
                }
                Ok(())
            }
            ListFormat::Csv => {
                let record: Vec<String> = cells.iter().map(|c| csv_field(&c.value, self.quote)).collect();
                writeln!(stdout, "{}", record.join(",")).map_err(stdout_error)
            }
            ListFormat::Value => {
                let line: Vec<String> = cells.iter().map(|c| python_str(&c.value)).collect();
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

    /// Ends the list (sorts what was held, prints the table, closes the
    /// json array).
    pub fn finish(mut self) -> Result<(), Failure> {
        if let Some((by, descending, mut held)) = self.sort.take() {
            // cliff sorts by the last column asked first, each sort stable.
            for column in by.iter().rev() {
                held.sort_by(|a, b| {
                    let o = compare_cells(
                        a.get(*column).map_or(&Value::Null, |c| &c.value),
                        b.get(*column).map_or(&Value::Null, |c| &c.value),
                    );
                    if descending { o.reverse() } else { o }
                });
            }
            if self.format == ListFormat::Json {
                print!("[");
            }
            for row in held {
                self.emit(row)?;
            }
        }
        let mut stdout = std::io::stdout().lock();
        match self.format {
            ListFormat::Table => match self.table {
                Some(table) if self.written > 0 || self.common.print_empty => {
                    writeln!(stdout, "{table}").map_err(stdout_error)
                }
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
