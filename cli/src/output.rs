//! What commands print: one resource as fields, or a list as rows, in
//! cliff's formats (table, json, yaml, value, csv, shell), as
//! python-openstackclient prints them: tables show human values (a
//! volume's name, `k='v'` for a map); the machine formats keep raw ones
//! (its ID) and write what Python's `str()` writes (`None`, `True`,
//! `{'k': 'v'}`), csv with Python's quoting rules. Columns are chosen with
//! `-c` as cliff chooses them. Lists are written row by row as pages
//! arrive, except tables and sorted lists, which need every row first.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};

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

/// Prints one resource on standard output: `fields` in their order, a
/// table's field names relabelled by `table_names`.
pub fn show(fields: Vec<(String, Cell)>, out: &ShowOutput, table_names: &[(&str, &str)]) -> Result<(), Failure> {
    let stdout = std::io::stdout();
    let terminal = stdout.is_terminal();
    show_to(&mut stdout.lock(), terminal, fields, out, table_names)
}

/// [`show`] on any writer; `terminal` says whether a table fits the
/// terminal's width.
fn show_to(
    stdout: &mut impl Write,
    terminal: bool,
    fields: Vec<(String, Cell)>,
    out: &ShowOutput,
    table_names: &[(&str, &str)],
) -> Result<(), Failure> {
    let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
    let keep = select(&names, &out.columns)?;
    let fields: Vec<(String, Cell)> =
        fields.into_iter().enumerate().filter(|(i, _)| keep.contains(i)).map(|(_, f)| f).collect();
    match out.format {
        ShowFormat::Table => {
            if fields.is_empty() {
                return Ok(());
            }
            let mut table = new_table(&out.common, terminal);
            table.set_header(vec!["Field", "Value"]);
            for (name, cell) in &fields {
                let label = table_names.iter().find(|(from, _)| *from == name).map_or(name.as_str(), |(_, to)| *to);
                table.add_row(vec![label.to_owned(), cell.table_text()]);
            }
            writeln!(stdout, "{table}").map_err(stdout_error)
        }
        ShowFormat::Json => {
            let map: Map<String, Value> = fields.into_iter().map(|(k, c)| (k, c.value)).collect();
            write_json(stdout, &Value::Object(map), out.common.noindent)
        }
        ShowFormat::Yaml => {
            let map: BTreeMap<String, Value> = fields.into_iter().map(|(k, c)| (k, sorted(c.value))).collect();
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

/// `value` with every map's keys in order, as PyYAML's `safe_dump` (cliff's
/// yaml format) writes them at any depth.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut pairs: Vec<(String, Value)> = map.into_iter().collect();
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(pairs.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

fn write_json(w: &mut impl Write, value: &Value, noindent: bool) -> Result<(), Failure> {
    writeln!(w, "{}", python_json(value, noindent)?).map_err(stdout_error)
}

/// `value` as cliff's `json.dump` writes it: indented by two spaces, or
/// (`--noindent`) on one line with Python's `", "` and `": "` separators;
/// and, as `ensure_ascii` does, every character beyond ASCII as `\uXXXX`
/// (a UTF-16 pair above U+FFFF).
fn python_json(value: &impl serde::Serialize, noindent: bool) -> Result<String, Failure> {
    let mut out = Vec::new();
    let written = if noindent {
        value.serialize(&mut serde_json::Serializer::with_formatter(&mut out, PythonCompact))
    } else {
        let pretty = serde_json::ser::PrettyFormatter::with_indent(b"  ");
        value.serialize(&mut serde_json::Serializer::with_formatter(&mut out, pretty))
    };
    written.map_err(|e| Failure::Other(format!("json: {e}")))?;
    let text = String::from_utf8(out).map_err(|e| Failure::Other(format!("json: {e}")))?;
    let mut ascii = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            ascii.push(c);
        } else {
            // Outside strings JSON has only ASCII, so this is inside one.
            for unit in c.encode_utf16(&mut [0; 2]) {
                ascii.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    Ok(ascii)
}

/// Python's `json.dumps` without `indent`: `, ` between items, `: ` after
/// keys.
struct PythonCompact;

impl serde_json::ser::Formatter for PythonCompact {
    fn begin_array_value<W: ?Sized + Write>(&mut self, writer: &mut W, first: bool) -> std::io::Result<()> {
        if first { Ok(()) } else { writer.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, writer: &mut W, first: bool) -> std::io::Result<()> {
        if first { Ok(()) } else { writer.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        writer.write_all(b": ")
    }
}

fn new_table(common: &OutputCommon, terminal: bool) -> comfy_table::Table {
    let mut table = comfy_table::Table::new();
    // python-openstackclient's (PrettyTable's) look: `+---+` around the
    // header and the table, no lines between rows.
    table.load_style(
        comfy_table::presets::ASCII_FULL_CONDENSED.header_separator(comfy_table::LineStyle::new('+', '-', '+', '+')),
    );
    // On a terminal (or when asked) the table fits its width; a pipe gets
    // whole lines.
    let fit = common.fit_width || common.max_width > 0 || terminal;
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
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        // (Two unset values compare equal as text.)
        _ => match (key(a), key(b)) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            _ => python_str(a).cmp(&python_str(b)),
        },
    }
}

/// Writes a list row by row, on standard output unless made with
/// [`to`](Rows::to).
pub struct Rows<W: Write = std::io::Stdout> {
    out: W,
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
    /// A list with these column headers, shown on standard output as `out`
    /// says.
    pub fn new(headers: &[&str], out: &ListOutput) -> Result<Self, Failure> {
        let stdout = std::io::stdout();
        let terminal = stdout.is_terminal();
        Rows::to(stdout, terminal, headers, out)
    }
}

impl<W: Write> Rows<W> {
    /// [`new`](Rows::new) on any writer; `terminal` says whether a table
    /// fits the terminal's width.
    fn to(writer: W, terminal: bool, headers: &[&str], out: &ListOutput) -> Result<Self, Failure> {
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
            out: writer,
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
                let mut table = new_table(&out.common, terminal);
                table.set_header(rows.headers.clone());
                rows.table = Some(table);
            }
            ListFormat::Csv => {
                let header: Vec<String> =
                    rows.headers.iter().map(|h| csv_field(&Value::String(h.clone()), out.quote)).collect();
                writeln!(rows.out, "{}", header.join(",")).map_err(stdout_error)?;
            }
            ListFormat::Json => {
                if rows.sort.is_none() {
                    write!(rows.out, "[").map_err(stdout_error)?;
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
        let stdout = &mut self.out;
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
                let item = python_json(&map, self.common.noindent)?.replace('\n', "\n  ");
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
                    self.headers.iter().cloned().zip(cells.into_iter().map(|c| sorted(c.value))).collect();
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
                write!(self.out, "[").map_err(stdout_error)?;
            }
            for row in held {
                self.emit(row)?;
            }
        }
        let stdout = &mut self.out;
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

#[cfg(test)]
mod tests {
    use clap::Parser;
    use serde_json::json;

    use super::*;

    #[derive(Parser)]
    struct List {
        #[command(flatten)]
        output: ListOutput,
    }

    #[derive(Parser)]
    struct Show {
        #[command(flatten)]
        output: ShowOutput,
    }

    fn argv<'a>(args: &'a [&'a str]) -> impl Iterator<Item = &'a str> {
        std::iter::once("osbackup").chain(args.iter().copied())
    }

    /// What a list of `rows` under `headers` prints with the output flags
    /// `args`.
    fn listed(headers: &[&str], rows: &[Value], args: &[&str]) -> String {
        printed(false, headers, rows, args)
    }

    /// What a list prints on a terminal (whose width is unknown here).
    fn listed_on_a_terminal(headers: &[&str], rows: &[Value], args: &[&str]) -> String {
        printed(true, headers, rows, args)
    }

    fn printed(terminal: bool, headers: &[&str], rows: &[Value], args: &[&str]) -> String {
        let out = List::try_parse_from(argv(args)).unwrap().output;
        let mut buf = Vec::new();
        let mut list = Rows::to(&mut buf, terminal, headers, &out).unwrap();
        for row in rows {
            list.push(row.as_array().unwrap().iter().cloned().map(Cell::new).collect()).unwrap();
        }
        list.finish().unwrap();
        String::from_utf8(buf).unwrap()
    }

    /// What showing `fields` prints with the output flags `args`.
    fn shown(fields: Vec<(&str, Cell)>, args: &[&str], table_names: &[(&str, &str)]) -> String {
        let out = Show::try_parse_from(argv(args)).unwrap().output;
        let fields = fields.into_iter().map(|(n, c)| (n.to_owned(), c)).collect();
        let mut buf = Vec::new();
        show_to(&mut buf, false, fields, &out, table_names).unwrap();
        String::from_utf8(buf).unwrap()
    }

    fn backup() -> Vec<(&'static str, Cell)> {
        vec![
            ("id", Cell::new("b1")),
            ("size", Cell::new(10)),
            ("volume_id", Cell::new("v1").shown_as("data")),
            ("is_incremental", Cell::new(false)),
            ("metadata", Cell::new(json!({"tier": "gold", "app": "db"}))),
            ("description", Cell::new(Value::Null)),
        ]
    }

    #[test]
    fn tables_show_human_values() {
        assert_eq!(text(&Value::Null), "None");
        assert_eq!(text(&json!(true)), "True");
        assert_eq!(text(&json!(false)), "False");
        assert_eq!(text(&json!(2.5)), "2.5");
        assert_eq!(text(&json!({"b": "2", "a": 1, "c": null})), "a='1', b='2', c='None'");
        assert_eq!(text(&json!(["x", 1, {"k": "v"}])), "x, 1, k='v'");
        assert_eq!(text(&json!([])), "");
    }

    #[test]
    fn machine_formats_write_what_pythons_str_writes() {
        assert_eq!(python_str(&json!("plain")), "plain");
        assert_eq!(python_str(&Value::Null), "None");
        assert_eq!(python_str(&json!([true, false, null, 1, "a"])), "[True, False, None, 1, 'a']");
        // Python keeps a dict's order: the server's.
        assert_eq!(python_str(&json!({"k": "v", "n": {"x": []}})), "{'k': 'v', 'n': {'x': []}}");
        assert_eq!(python_str(&json!(["it's"])), "[\"it's\"]");
        assert_eq!(python_str(&json!(["it's \"x\""])), "['it\\'s \"x\"']");
        assert_eq!(python_str(&json!(["say \"x\""])), "['say \"x\"']");
        assert_eq!(python_str(&json!(["a\\b\nc\rd\te"])), "['a\\\\b\\nc\\rd\\te']");
        assert_eq!(python_str(&json!(["\u{1}\u{1f}\u{7f} é"])), "['\\x01\\x1f\\x7f é']");
    }

    #[test]
    fn csv_fields_follow_pythons_quoting() {
        let field = |v: Value, q| csv_field(&v, q);
        assert_eq!(field(json!("a"), Quote::Nonnumeric), "\"a\"");
        assert_eq!(field(json!(10), Quote::Nonnumeric), "10");
        assert_eq!(field(json!(true), Quote::Nonnumeric), "True");
        assert_eq!(field(Value::Null, Quote::Nonnumeric), "\"\"");
        assert_eq!(field(json!("say \"hi\""), Quote::Nonnumeric), "\"say \"\"hi\"\"\"");
        assert_eq!(field(json!(10), Quote::All), "\"10\"");
        assert_eq!(field(Value::Null, Quote::All), "\"\"");
        assert_eq!(field(json!("a"), Quote::Minimal), "a");
        assert_eq!(field(json!(10), Quote::Minimal), "10");
        for special in ["a,b", "a\"b", "a\nb", "a\rb"] {
            let quoted = format!("\"{}\"", special.replace('"', "\"\""));
            assert_eq!(field(json!(special), Quote::Minimal), quoted, "{special:?}");
        }
        assert_eq!(field(Value::Null, Quote::Minimal), "");
        assert_eq!(field(json!("a,b\"c\\d\ne\rf"), Quote::None), "a\\,b\\\"c\\\\d\\\ne\\\rf");
        assert_eq!(field(json!("plain"), Quote::None), "plain");
    }

    #[test]
    fn fields_are_renamed_dropped_and_sorted() {
        let item = json!({"volume_id": "v1", "id": "b1", "links": [], "size": 1});
        let fields = fields_of(&item, &[("volume_id", "volume")], &["links"]);
        let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["id", "size", "volume"]);
        assert_eq!(fields[2].1.value, json!("v1"));
        assert!(fields_of(&json!(["not", "an", "object"]), &[], &[]).is_empty());
    }

    #[test]
    fn fixed_fields_keep_their_order_and_fill_what_is_absent() {
        let item = json!({"size": 1, "id": "b1"});
        let fields = fixed_fields(
            &item,
            &[("ID", "id"), ("Size", "size"), ("Name", "name"), ("Properties", "metadata")],
            &[("metadata", json!({}))],
        );
        let got: Vec<(&str, &Value)> = fields.iter().map(|(n, c)| (n.as_str(), &c.value)).collect();
        assert_eq!(
            got,
            [("ID", &json!("b1")), ("Size", &json!(1)), ("Name", &Value::Null), ("Properties", &json!({}))]
        );
        let nothing = fixed_fields(&json!("text"), &[("ID", "id")], &[]);
        assert_eq!(nothing[0].1.value, Value::Null);
    }

    #[test]
    fn columns_are_chosen_as_cliff_chooses_them() {
        let names = ["ID", "Volume ID", "Size"];
        let wanted = |w: &[&str]| select(&names, &w.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        assert_eq!(wanted(&[]).unwrap(), [0, 1, 2]);
        // The command's order, whatever the order asked; names normalized;
        // unknown names ignored while one is known.
        assert_eq!(wanted(&["size", " volume_id ", "nope", "id"]).unwrap(), [0, 1, 2]);
        assert_eq!(wanted(&["SIZE"]).unwrap(), [2]);
        let Err(Failure::Other(message)) = wanted(&["nope", "it's"]) else { panic!("no column is known") };
        assert_eq!(
            message,
            "No recognized column names in ['nope', \"it's\"]. Recognized columns are ('ID', 'Volume ID', 'Size')."
        );
        let Err(Failure::Other(one)) = select(&["ID"], &["x".to_owned()]) else { panic!("no column is known") };
        assert_eq!(one, "No recognized column names in ['x']. Recognized columns are ('ID',).");
    }

    #[test]
    fn cells_sort_as_cliff_sorts_them() {
        use std::cmp::Ordering::*;
        assert_eq!(compare_cells(&json!(9), &json!(10)), Less);
        assert_eq!(compare_cells(&json!(10), &json!(9)), Greater);
        assert_eq!(compare_cells(&json!(2.5), &json!(2.5)), Equal);
        assert_eq!(compare_cells(&json!(true), &json!(0)), Greater);
        assert_eq!(compare_cells(&json!(false), &json!(0.5)), Less);
        assert_eq!(compare_cells(&json!("b"), &json!("a")), Greater);
        assert_eq!(compare_cells(&json!("10"), &json!("9")), Less);
        assert_eq!(compare_cells(&Value::Null, &json!("a")), Greater);
        assert_eq!(compare_cells(&json!(1), &Value::Null), Less);
        assert_eq!(compare_cells(&Value::Null, &Value::Null), Equal);
    }

    #[test]
    fn one_resource_as_a_table() {
        let table = shown(backup(), &[], &[("volume_id", "volume")]);
        assert_eq!(
            table,
            "\
+----------------+-----------------------+
| Field          | Value                 |
+----------------+-----------------------+
| id             | b1                    |
| size           | 10                    |
| volume         | data                  |
| is_incremental | False                 |
| metadata       | app='db', tier='gold' |
| description    | None                  |
+----------------+-----------------------+
"
        );
        assert_eq!(shown(backup(), &["-c", "size", "-c", "id"], &[]).lines().count(), 6);
        assert_eq!(shown(Vec::new(), &[], &[]), "");
    }

    #[test]
    fn one_resource_in_the_machine_formats() {
        assert_eq!(
            shown(backup(), &["-f", "json"], &[]),
            "{\n  \"id\": \"b1\",\n  \"size\": 10,\n  \"volume_id\": \"v1\",\n  \"is_incremental\": false,\n  \
             \"metadata\": {\n    \"tier\": \"gold\",\n    \"app\": \"db\"\n  },\n  \"description\": null\n}\n"
        );
        assert_eq!(
            shown(backup(), &["-f", "json", "--noindent"], &[]),
            "{\"id\": \"b1\", \"size\": 10, \"volume_id\": \"v1\", \"is_incremental\": false, \
             \"metadata\": {\"tier\": \"gold\", \"app\": \"db\"}, \"description\": null}\n"
        );
        assert_eq!(
            shown(backup(), &["-f", "yaml", "-c", "id", "-c", "metadata", "-c", "description"], &[]),
            "description: null\nid: b1\nmetadata:\n  app: db\n  tier: gold\n"
        );
        assert_eq!(shown(backup(), &["-f", "value"], &[]), "b1\n10\nv1\nFalse\n{'tier': 'gold', 'app': 'db'}\nNone\n");
        assert_eq!(shown(backup(), &["-f", "value", "-c", "size"], &[]), "10\n");
    }

    #[test]
    fn one_resource_as_shell_variables() {
        let fields = vec![
            ("ID", Cell::new("b1")),
            ("Volume ID", Cell::new("v1").shown_as("data")),
            ("os-backup:size", Cell::new(1)),
            ("is-public", Cell::new(true)),
            ("Description", Cell::new("say \"hi\", it's")),
        ];
        assert_eq!(
            shown(fields.clone(), &["-f", "shell"], &[]),
            "id=\"b1\"\nvolume_id=\"v1\"\nos_backup_size=\"1\"\nis_public=\"True\"\ndescription=\"say \\\"hi\\\", it's\"\n"
        );
        assert_eq!(
            shown(fields, &["-f", "shell", "--prefix", "b_", "--variable", "id", "--variable", "volume_id"], &[]),
            "b_id=\"b1\"\nb_volume_id=\"v1\"\n"
        );
    }

    #[test]
    fn json_is_ascii_as_pythons_json_dump_writes_it() {
        let fields = vec![("name", Cell::new("café ☕ 🎉")), ("x", Cell::new(json!([1, {"k": []}])))];
        assert_eq!(
            shown(fields.clone(), &["-f", "json", "--noindent"], &[]),
            "{\"name\": \"caf\\u00e9 \\u2615 \\ud83c\\udf89\", \"x\": [1, {\"k\": []}]}\n"
        );
        let list = listed(&["Name"], &[json!(["é"])], &["-f", "json"]);
        assert_eq!(list, "[\n  {\n    \"Name\": \"\\u00e9\"\n  }\n]\n");
    }

    fn rows() -> Vec<Value> {
        vec![json!(["b1", 10, "one", true]), json!(["b2", 2, null, false]), json!(["b3", 10, "a,b", null])]
    }

    const HEADERS: [&str; 4] = ["ID", "Size", "Name", "Is Incremental"];

    #[test]
    fn a_list_as_a_table() {
        assert_eq!(
            listed(&HEADERS, &rows(), &[]),
            "\
+----+------+------+----------------+
| ID | Size | Name | Is Incremental |
+----+------+------+----------------+
| b1 |   10 | one  | True           |
| b2 |    2 | None | False          |
| b3 |   10 | a,b  | None           |
+----+------+------+----------------+
"
        );
        // Alignment comes from the first row: a number after a null stays
        // on the left.
        assert_eq!(
            listed(&["ID", "Size"], &[json!(["b1", null]), json!(["b2", 2])], &[]),
            "\
+----+------+
| ID | Size |
+----+------+
| b1 | None |
| b2 | 2    |
+----+------+
"
        );
        assert_eq!(listed(&HEADERS, &[], &[]), "");
        assert_eq!(
            listed(&["ID", "Size"], &[], &["--print-empty"]),
            "+----+------+\n| ID | Size |\n+----+------+\n+----+------+\n"
        );
    }

    #[test]
    fn a_table_fits_the_width_asked() {
        let long = json!([["a fairly long name that does not fit"]]);
        let rows: Vec<Value> = long.as_array().unwrap().clone();
        let wide = listed(&["Name"], &rows, &[]);
        assert_eq!(wide.lines().map(str::len).max(), Some(40));
        for args in [&["--max-width", "20"][..], &["--max-width", "20", "--fit-width"][..]] {
            let narrow = listed(&["Name"], &rows, args);
            assert!(narrow.lines().all(|l| l.len() <= 20), "{args:?}: {narrow}");
            assert!(narrow.lines().count() > wide.lines().count(), "{args:?}: {narrow}");
        }
        // Below 1: no limit, also on a terminal.
        assert_eq!(listed(&["Name"], &rows, &["--max-width", "-1"]), wide);
        assert_eq!(listed_on_a_terminal(&["Name"], &rows, &[]), wide);
        assert_eq!(listed_on_a_terminal(&["Name"], &rows, &["--max-width", "0"]), wide);
        let narrow = listed_on_a_terminal(&["Name"], &rows, &["--max-width", "20"]);
        assert!(narrow.lines().all(|l| l.len() <= 20), "{narrow}");
        assert_eq!(listed(&["Name"], &rows, &["--max-width", "99999999"]), wide);
    }

    #[test]
    fn a_list_in_the_machine_formats() {
        assert_eq!(
            listed(&HEADERS, &rows(), &["-f", "csv"]),
            "\"ID\",\"Size\",\"Name\",\"Is Incremental\"\n\"b1\",10,\"one\",True\n\"b2\",2,\"\",False\n\"b3\",10,\"a,b\",\"\"\n"
        );
        assert_eq!(
            listed(&HEADERS, &rows(), &["-f", "csv", "--quote", "minimal", "-c", "Name", "-c", "ID"]),
            "ID,Name\nb1,one\nb2,\nb3,\"a,b\"\n"
        );
        assert_eq!(listed(&HEADERS, &[], &["-f", "csv"]), "\"ID\",\"Size\",\"Name\",\"Is Incremental\"\n");
        assert_eq!(listed(&HEADERS, &rows(), &["-f", "value"]), "b1 10 one True\nb2 2 None False\nb3 10 a,b None\n");
        assert_eq!(listed(&HEADERS, &[], &["-f", "value"]), "");
        assert_eq!(
            listed(&["ID", "Size"], &rows(), &["-f", "json"]),
            "[\n  {\n    \"ID\": \"b1\",\n    \"Size\": 10\n  },\n  {\n    \"ID\": \"b2\",\n    \"Size\": 2\n  },\n  \
             {\n    \"ID\": \"b3\",\n    \"Size\": 10\n  }\n]\n"
        );
        assert_eq!(
            listed(&["Size", "ID"], &[json!([10, "b1"]), json!([2, "b2"])], &["-f", "json", "--noindent"]),
            "[{\"Size\": 10, \"ID\": \"b1\"}, {\"Size\": 2, \"ID\": \"b2\"}]\n"
        );
        assert_eq!(listed(&HEADERS, &[], &["-f", "json"]), "[]\n");
        assert_eq!(listed(&HEADERS, &[], &["-f", "json", "--noindent"]), "[]\n");
        assert_eq!(
            listed(&["ID", "Size"], &rows(), &["-f", "yaml"]),
            "- ID: b1\n  Size: 10\n- ID: b2\n  Size: 2\n- ID: b3\n  Size: 10\n"
        );
        assert_eq!(listed(&HEADERS, &[], &["-f", "yaml"]), "[]\n");
        // PyYAML sorts every map's keys, however deep.
        let nested = json!([["b1", {"z": 1, "a": [{"y": 1, "b": 2}]}]]);
        assert_eq!(
            listed(&["ID", "Properties"], nested.as_array().unwrap(), &["-f", "yaml"]),
            "- ID: b1\n  Properties:\n    a:\n    - b: 2\n      y: 1\n    z: 1\n"
        );
    }

    #[test]
    fn a_list_sorted_by_columns() {
        let ids = |args: &[&str]| {
            let all = [&["-f", "value", "-c", "ID"][..], args].concat();
            listed(&HEADERS, &rows(), &all).lines().map(str::to_owned).collect::<Vec<_>>().join(" ")
        };
        assert_eq!(ids(&[]), "b1 b2 b3");
        // Unset values last; the first column asked has priority.
        assert_eq!(ids(&["--sort-column", "Name"]), "b3 b1 b2");
        assert_eq!(ids(&["--sort-column", "size", "--sort-column", "name"]), "b2 b3 b1");
        assert_eq!(ids(&["--sort-column", "Size", "--sort-column", "Name", "--sort-descending"]), "b1 b3 b2");
        assert_eq!(ids(&["--sort-column", "is_incremental", "--sort-ascending"]), "b2 b1 b3");
        assert_eq!(ids(&["--sort-column", "nope"]), "b1 b2 b3");
        // A sorted list is held until its end, then written as usual.
        assert_eq!(
            listed(&["ID", "Size"], &rows(), &["-f", "json", "--noindent", "--sort-column", "Size"]),
            "[{\"ID\": \"b2\", \"Size\": 2}, {\"ID\": \"b1\", \"Size\": 10}, {\"ID\": \"b3\", \"Size\": 10}]\n"
        );
        assert_eq!(listed(&HEADERS, &[], &["-f", "json", "--sort-column", "ID"]), "[]\n");
        assert_eq!(
            listed(&["ID", "Size"], &rows(), &["--sort-column", "Size", "--sort-descending"]),
            "\
+----+------+
| ID | Size |
+----+------+
| b1 |   10 |
| b3 |   10 |
| b2 |    2 |
+----+------+
"
        );
    }

    #[test]
    fn a_row_shorter_than_its_headers_gets_none() {
        assert_eq!(listed(&["ID", "Size"], &[json!(["b1"])], &["-f", "value"]), "b1 None\n");
    }
}
