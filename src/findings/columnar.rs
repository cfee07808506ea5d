//! The Parquet export (`findings export --format parquet --output DIR`): findings written as
//! they stream in, Hive-partitioned `region=R/date=D/part-N.parquet` (D is the UTC day the
//! finding was created, so a finding always lands in the same partition), in a stable schema
//! ([`SCHEMA`], documented in `docs/exports.md`).
//!
//! Memory stays bounded at any number of findings: rows wait in a per-partition buffer until
//! [`ROW_GROUP_ROWS`] of them make a row group, all buffers together hold at most
//! [`BUFFERED_ROWS`] (past that the largest is written as a smaller row group), at most
//! [`OPEN_FILES`] files are open at once (the least recently used is closed first) and a file
//! holds at most [`FILE_ROWS`] rows in at most [`FILE_ROW_GROUPS`] row groups. Each file is written to a hidden temporary file beside it
//! and renamed when closed, so readers (and a Ctrl-C) only ever see complete files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parquet::basic::Compression;
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int32Type, Int64Type};
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterPropertiesPtr};
use parquet::file::writer::{SerializedFileWriter, SerializedRowGroupWriter};
use parquet::schema::types::TypePtr;

use super::record::{epoch_ms, FindingRecord};
use crate::fsutil::AtomicFile;

/// Rows per row group: large enough for engines to skip by statistics, small enough to
/// buffer.
pub const ROW_GROUP_ROWS: usize = 8 * 1024;
/// Rows buffered across every partition at once.
pub const BUFFERED_ROWS: usize = 4 * ROW_GROUP_ROWS;
/// Files open at once (one per partition at most).
pub const OPEN_FILES: usize = 256;
/// Rows per file before the next part starts.
pub const FILE_ROWS: u64 = 1_000_000;
/// Row groups per file before the next part starts: an open file keeps each row group's
/// metadata in memory until its footer is written, so this bounds that memory too.
pub const FILE_ROW_GROUPS: usize = 16;

/// Hive's name for a partition whose value is missing.
const NO_VALUE: &str = "__HIVE_DEFAULT_PARTITION__";

/// The file schema, in column order. `region` and `date` are the partition directories, not
/// columns, as Hive-partitioned readers (Spark, Athena, Trino, DuckDB) expect.
pub const SCHEMA: &str = "message guardduty_finding {
  required binary id (STRING);
  required binary account_id (STRING);
  required binary type (STRING);
  required double severity;
  optional binary severity_band (STRING);
  required binary title (STRING);
  required boolean archived;
  required int64 count;
  optional int64 created_at (TIMESTAMP(MILLIS,true));
  optional int64 updated_at (TIMESTAMP(MILLIS,true));
  optional int64 first_seen (TIMESTAMP(MILLIS,true));
  optional int64 last_seen (TIMESTAMP(MILLIS,true));
  required binary resource_type (STRING);
  required binary resource_id (STRING);
  optional binary action_type (STRING);
  optional binary actor_ip (STRING);
  optional int32 actor_port;
  optional binary actor_domain (STRING);
  optional binary actor_location (STRING);
  optional binary actor_organization (STRING);
  optional binary actor_user_agent (STRING);
  required group threat_lists (LIST) {
    repeated group list {
      required binary element (STRING);
    }
  }
  optional binary feedback (STRING);
}";

#[derive(Debug, thiserror::Error)]
pub enum ParquetError {
    #[error("{0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}: the Parquet export needs an empty (or new) directory, so that every part-N file in it is from this export")]
    NotEmpty(PathBuf),
}

/// A file put in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub path: PathBuf,
    pub rows: u64,
}

type Writer = SerializedFileWriter<AtomicFile>;

struct Partition {
    dir: PathBuf,
    rows: Vec<FindingRecord>,
    writer: Option<Writer>,
    rows_in_file: u64,
    groups_in_file: usize,
    next_part: usize,
    last_used: u64,
}

/// The bounds of an export; [`Limits::default`] is the constants above.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub row_group_rows: usize,
    pub buffered_rows: usize,
    pub open_files: usize,
    pub file_rows: u64,
    pub file_row_groups: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            row_group_rows: ROW_GROUP_ROWS,
            buffered_rows: BUFFERED_ROWS,
            open_files: OPEN_FILES,
            file_rows: FILE_ROWS,
            file_row_groups: FILE_ROW_GROUPS,
        }
    }
}

/// A Parquet export in progress under one directory.
pub struct ParquetExport {
    dir: PathBuf,
    limits: Limits,
    schema: TypePtr,
    props: WriterPropertiesPtr,
    parts: HashMap<(String, String), Partition>,
    buffered: usize,
    open: usize,
    clock: u64,
    written: Vec<Written>,
}

impl ParquetExport {
    /// Start an export into `dir` (created if missing; it must be empty).
    pub fn create(dir: &Path) -> Result<ParquetExport, ParquetError> {
        ParquetExport::with_limits(dir, Limits::default())
    }

    pub fn with_limits(dir: &Path, limits: Limits) -> Result<ParquetExport, ParquetError> {
        let io = |source| ParquetError::Io {
            path: dir.into(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        if std::fs::read_dir(dir).map_err(io)?.next().is_some() {
            return Err(ParquetError::NotEmpty(dir.into()));
        }
        let schema = Arc::new(parquet::schema::parser::parse_message_type(SCHEMA)?);
        // Snappy: every engine reads it, and it decompresses faster than any other codec they
        // share; dictionaries already shrink the repetitive columns (accounts, types).
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            // Min/max per row group (what engines skip row groups by), no page index: an open
            // file keeps every row group's statistics and indexes in memory until its footer
            // is written, and long strings (titles, user agents) are kept short there.
            .set_statistics_enabled(EnabledStatistics::Chunk)
            .set_statistics_truncate_length(Some(64))
            .set_created_by(format!("gdorg {}", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(ParquetExport {
            dir: dir.into(),
            limits,
            schema,
            props: Arc::new(props),
            parts: HashMap::new(),
            buffered: 0,
            open: 0,
            clock: 0,
            written: Vec::new(),
        })
    }

    /// Add one finding; a row group is written when its partition has enough.
    pub fn push(&mut self, r: FindingRecord) -> Result<(), ParquetError> {
        let key = (hive_value(&r.region), day(&r.created_at));
        self.clock += 1;
        let dir = &self.dir;
        let part = self.parts.entry(key.clone()).or_insert_with(|| Partition {
            dir: dir
                .join(format!("region={}", key.0))
                .join(format!("date={}", key.1)),
            rows: Vec::new(),
            writer: None,
            rows_in_file: 0,
            groups_in_file: 0,
            next_part: 0,
            last_used: 0,
        });
        part.last_used = self.clock;
        part.rows.push(r);
        self.buffered += 1;
        if part.rows.len() >= self.limits.row_group_rows {
            self.flush(&key)?;
        }
        if self.buffered > self.limits.buffered_rows {
            let largest = self
                .parts
                .iter()
                .max_by_key(|(_, p)| p.rows.len())
                .map(|(k, _)| k.clone());
            if let Some(k) = largest {
                self.flush(&k)?;
            }
        }
        Ok(())
    }

    /// Write every buffered row and close every file; the files written, sorted.
    pub fn finish(mut self) -> Result<Vec<Written>, ParquetError> {
        let keys: Vec<_> = self.parts.keys().cloned().collect();
        for k in keys {
            self.flush(&k)?;
            self.close(&k)?;
        }
        self.written.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(self.written)
    }

    /// Write the partition's buffered rows as one row group.
    fn flush(&mut self, key: &(String, String)) -> Result<(), ParquetError> {
        let needs_file = {
            let p = &self.parts[key];
            if p.rows.is_empty() {
                return Ok(());
            }
            p.writer.is_none()
        };
        if needs_file {
            if self.open >= self.limits.open_files {
                self.close_least_recent(key)?;
            }
            self.open_file(key)?;
        }
        let p = self.parts.get_mut(key).expect("partition");
        let rows = std::mem::take(&mut p.rows);
        self.buffered -= rows.len();
        let w = p.writer.as_mut().expect("open writer");
        let mut rg = w.next_row_group()?;
        write_row_group(&mut rg, &rows)?;
        rg.close()?;
        p.rows_in_file += rows.len() as u64;
        p.groups_in_file += 1;
        if p.rows_in_file >= self.limits.file_rows
            || p.groups_in_file >= self.limits.file_row_groups
        {
            self.close(key)?;
        }
        Ok(())
    }

    fn open_file(&mut self, key: &(String, String)) -> Result<(), ParquetError> {
        let p = self.parts.get_mut(key).expect("partition");
        std::fs::create_dir_all(&p.dir).map_err(|source| ParquetError::Io {
            path: p.dir.clone(),
            source,
        })?;
        let path = p.dir.join(format!("part-{}.parquet", p.next_part));
        p.next_part += 1;
        let file = AtomicFile::create(&path).map_err(|source| ParquetError::Io {
            path: path.clone(),
            source,
        })?;
        p.writer = Some(SerializedFileWriter::new(
            file,
            self.schema.clone(),
            self.props.clone(),
        )?);
        p.rows_in_file = 0;
        p.groups_in_file = 0;
        self.open += 1;
        Ok(())
    }

    /// Close the open file least recently written to (not `keep`'s), its rows flushed first.
    fn close_least_recent(&mut self, keep: &(String, String)) -> Result<(), ParquetError> {
        let oldest = self
            .parts
            .iter()
            .filter(|(k, p)| p.writer.is_some() && *k != keep)
            .min_by_key(|(_, p)| p.last_used)
            .map(|(k, _)| k.clone());
        if let Some(k) = oldest {
            let rows = std::mem::take(&mut self.parts.get_mut(&k).expect("partition").rows);
            if !rows.is_empty() {
                // Written into the file about to close, without opening another.
                self.buffered -= rows.len();
                let p = self.parts.get_mut(&k).expect("partition");
                let w = p.writer.as_mut().expect("open writer");
                let mut rg = w.next_row_group()?;
                write_row_group(&mut rg, &rows)?;
                rg.close()?;
                p.rows_in_file += rows.len() as u64;
            }
            self.close(&k)?;
        }
        Ok(())
    }

    /// Finish the partition's open file (footer, sync, rename into place).
    fn close(&mut self, key: &(String, String)) -> Result<(), ParquetError> {
        let p = self.parts.get_mut(key).expect("partition");
        let Some(w) = p.writer.take() else {
            return Ok(());
        };
        self.open -= 1;
        let file = w.into_inner()?;
        let path = file.path().to_path_buf();
        file.commit().map_err(|source| ParquetError::Io {
            path: path.clone(),
            source,
        })?;
        self.written.push(Written {
            path,
            rows: p.rows_in_file,
        });
        Ok(())
    }
}

/// A partition value safe as a directory name: Hive's escaping (`%XX`) of anything but
/// letters, digits, `-` and `_`.
fn hive_value(v: &str) -> String {
    if v.is_empty() {
        return NO_VALUE.into();
    }
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The UTC day of a GuardDuty time (`YYYY-MM-DD`).
fn day(t: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(t)
        .map(|d| d.with_timezone(&chrono::Utc).format("%Y-%m-%d").to_string())
        .unwrap_or_else(|_| NO_VALUE.into())
}

/// The columns of [`SCHEMA`], in its order.
fn write_row_group<W: std::io::Write + Send>(
    rg: &mut SerializedRowGroupWriter<'_, W>,
    rows: &[FindingRecord],
) -> Result<(), ParquetError> {
    strings(rg, rows, |r| Some(r.id.as_str()))?;
    strings(rg, rows, |r| Some(r.account_id.as_str()))?;
    strings(rg, rows, |r| Some(r.finding_type.as_str()))?;
    let sev: Vec<f64> = rows.iter().map(|r| r.severity).collect();
    column::<DoubleType, _>(rg, &sev)?;
    let bands: Vec<Option<String>> = rows
        .iter()
        .map(|r| r.band().map(|b| format!("{b:?}")))
        .collect();
    strings(rg, &bands, |b| b.as_deref())?;
    strings(rg, rows, |r| Some(r.title.as_str()))?;
    let archived: Vec<bool> = rows.iter().map(|r| r.archived).collect();
    column::<BoolType, _>(rg, &archived)?;
    let count: Vec<i64> = rows.iter().map(|r| r.count).collect();
    column::<Int64Type, _>(rg, &count)?;
    for time in [
        |r: &FindingRecord| epoch_ms(&r.created_at),
        |r: &FindingRecord| epoch_ms(&r.updated_at),
        |r: &FindingRecord| r.first_seen.as_deref().and_then(epoch_ms),
        |r: &FindingRecord| r.last_seen.as_deref().and_then(epoch_ms),
    ] {
        optional::<Int64Type>(rg, rows.iter().map(time).collect())?;
    }
    strings(rg, rows, |r| Some(r.resource_type.as_str()))?;
    strings(rg, rows, |r| Some(r.resource_id.as_str()))?;
    strings(rg, rows, |r| r.action_type.as_deref())?;
    strings(rg, rows, |r| r.actor.ip.as_deref())?;
    optional::<Int32Type>(rg, rows.iter().map(|r| r.actor.port).collect())?;
    strings(rg, rows, |r| r.actor.domain.as_deref())?;
    strings(rg, rows, |r| r.actor.location.as_deref())?;
    strings(rg, rows, |r| r.actor.organization.as_deref())?;
    strings(rg, rows, |r| r.actor.user_agent.as_deref())?;
    lists(rg, rows)?;
    strings(rg, rows, |r| r.feedback.as_deref())?;
    Ok(())
}

/// The next column, a required one, written whole.
fn column<T: parquet::data_type::DataType, V>(
    rg: &mut SerializedRowGroupWriter<'_, V>,
    values: &[T::T],
) -> Result<(), ParquetError>
where
    V: std::io::Write + Send,
{
    leveled::<T, V>(rg, values, None, None)
}

/// The next column, written whole: `values`, the definition levels (1 present, 0 null; left
/// out for a required column) and, for a list, the repetition levels.
fn leveled<T: parquet::data_type::DataType, V>(
    rg: &mut SerializedRowGroupWriter<'_, V>,
    values: &[T::T],
    def: Option<&[i16]>,
    rep: Option<&[i16]>,
) -> Result<(), ParquetError>
where
    V: std::io::Write + Send,
{
    let mut col = rg.next_column()?.ok_or_else(|| {
        parquet::errors::ParquetError::General("more columns written than the schema has".into())
    })?;
    let w = col.typed::<T>();
    // A required column takes no definition levels: the schema decides, not the caller.
    let def = def.filter(|_| w.get_descriptor().max_def_level() > 0);
    w.write_batch(values, def, rep)?;
    col.close()?;
    Ok(())
}

/// A string column; `None` is null (only optional columns are given one).
fn strings<R, W: std::io::Write + Send>(
    rg: &mut SerializedRowGroupWriter<'_, W>,
    rows: &[R],
    get: fn(&R) -> Option<&str>,
) -> Result<(), ParquetError> {
    let mut values = Vec::with_capacity(rows.len());
    let mut def = Vec::with_capacity(rows.len());
    for r in rows {
        match get(r) {
            Some(s) => {
                values.push(ByteArray::from(s.as_bytes().to_vec()));
                def.push(1);
            }
            None => def.push(0),
        }
    }
    leveled::<ByteArrayType, W>(rg, &values, Some(&def), None)
}

fn optional<T: parquet::data_type::DataType>(
    rg: &mut SerializedRowGroupWriter<'_, impl std::io::Write + Send>,
    values: Vec<Option<T::T>>,
) -> Result<(), ParquetError> {
    let def: Vec<i16> = values.iter().map(|v| v.is_some() as i16).collect();
    let present: Vec<T::T> = values.into_iter().flatten().collect();
    leveled::<T, _>(rg, &present, Some(&def), None)
}

/// `threat_lists`: a required list of required strings (definition level 1 for an element,
/// 0 for an empty list; repetition 0 starts a row).
fn lists<W: std::io::Write + Send>(
    rg: &mut SerializedRowGroupWriter<'_, W>,
    rows: &[FindingRecord],
) -> Result<(), ParquetError> {
    let (mut values, mut def, mut rep) = (Vec::new(), Vec::new(), Vec::new());
    for r in rows {
        if r.threat_lists.is_empty() {
            def.push(0);
            rep.push(0);
        }
        for (i, t) in r.threat_lists.iter().enumerate() {
            values.push(ByteArray::from(t.as_bytes().to_vec()));
            def.push(1);
            rep.push((i > 0) as i16);
        }
    }
    leveled::<ByteArrayType, W>(rg, &values, Some(&def), Some(&rep))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::record::tests::record;
    use parquet::file::reader::{FileReader, SerializedFileReader};

    fn row_groups(path: &Path) -> Vec<i64> {
        let r = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
        r.metadata()
            .row_groups()
            .iter()
            .map(|g| g.num_rows())
            .collect()
    }

    #[test]
    fn row_groups_are_capped_and_buffers_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("lake");
        let mut x = ParquetExport::create(&out).unwrap();
        let n = 2 * ROW_GROUP_ROWS + 5;
        for i in 0..n {
            x.push(record(
                &format!("f{i}"),
                "111111111111",
                "eu-west-1",
                "T",
                5.0,
            ))
            .unwrap();
            assert!(x.buffered <= BUFFERED_ROWS);
        }
        // Ten partitions fed in turn: the buffers together stay under the cap.
        for i in 0..BUFFERED_ROWS + 1000 {
            let mut r = record(&format!("g{i}"), "111111111111", "us-east-1", "T", 5.0);
            r.created_at = format!("2026-11-{:02}T10:00:00.000Z", 10 + i % 10);
            x.push(r).unwrap();
            assert!(x.buffered <= BUFFERED_ROWS);
            assert!(x.open <= OPEN_FILES);
        }
        let written = x.finish().unwrap();
        let first = out.join("region=eu-west-1/date=2026-11-20/part-0.parquet");
        assert_eq!(written[0].path, first);
        assert_eq!(written[0].rows, n as u64);
        assert_eq!(
            row_groups(&first),
            [ROW_GROUP_ROWS as i64, ROW_GROUP_ROWS as i64, 5]
        );
        let total: u64 = written.iter().map(|w| w.rows).sum();
        assert_eq!(total as usize, n + BUFFERED_ROWS + 1000);
        // Only part files, each complete: no temporary file is left.
        for w in &written {
            let groups: i64 = row_groups(&w.path).iter().sum();
            assert_eq!(groups as u64, w.rows);
        }
        let dates = std::fs::read_dir(out.join("region=us-east-1"))
            .unwrap()
            .count();
        assert_eq!(dates, 10);
    }

    #[test]
    fn more_partitions_than_open_files_close_the_least_recent() {
        let dir = tempfile::tempdir().unwrap();
        let limits = Limits {
            row_group_rows: 4,
            buffered_rows: 20,
            open_files: 3,
            file_rows: 10,
            file_row_groups: 2,
        };
        let mut x = ParquetExport::with_limits(dir.path(), limits).unwrap();
        // Seven partitions fed in turn, 12 rows each.
        for i in 0..7 * 12 {
            let mut r = record(&format!("f{i}"), "1", "eu-west-1", "T", 5.0);
            r.region = format!("r{}", i % 7);
            x.push(r).unwrap();
            assert!(x.open <= 3 && x.buffered <= 20);
        }
        let written = x.finish().unwrap();
        let total: u64 = written.iter().map(|w| w.rows).sum();
        assert_eq!(total, 7 * 12);
        for w in &written {
            assert!(w.rows <= 10 + 4, "{w:?}");
            let groups = row_groups(&w.path);
            assert!(
                groups.len() <= 2 && groups.iter().all(|g| *g <= 4),
                "{groups:?}"
            );
            assert_eq!(groups.iter().sum::<i64>() as u64, w.rows);
        }
        // A partition continued after its file was closed is in part-1, part-2 ...
        assert!(written.iter().any(|w| w.path.ends_with("part-1.parquet")));
    }

    #[test]
    fn partition_values_are_escaped_and_days_are_utc() {
        assert_eq!(hive_value("eu-west-1"), "eu-west-1");
        assert_eq!(hive_value("../x"), "%2E%2E%2Fx");
        assert_eq!(hive_value(""), NO_VALUE);
        assert_eq!(day("2026-11-20T23:30:00-02:00"), "2026-11-21");
        assert_eq!(day("yesterday"), NO_VALUE);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("old.parquet"), b"x").unwrap();
        assert!(matches!(
            ParquetExport::create(dir.path()),
            Err(ParquetError::NotEmpty(_))
        ));
    }
}
