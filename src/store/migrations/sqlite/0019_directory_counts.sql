-- What the dashboard and segment counts read, kept so that neither walks
-- the directory's rows (docs/console.md, "Dashboard" and "Segments";
-- docs/benchmarks.md, "Segment counts").

-- Each record's tags in one text, '|' before and after each tag
-- ('|donor|paris|'; '' for none; a tag cannot hold '|'), kept by the
-- store whenever the record's tags change. A segment count reads it from
-- supporters_segment_facts with the record's other facts, instead of
-- probing supporter_tags once per record. Not personal data beyond what
-- supporter_tags holds already.
ALTER TABLE supporters ADD COLUMN tag_list TEXT NOT NULL DEFAULT '';
UPDATE supporters SET tag_list = (
  SELECT '|' || group_concat(t.tag, '|') || '|' FROM supporter_tags t WHERE t.supporter_id = supporters.id)
WHERE id IN (SELECT supporter_id FROM supporter_tags);

DROP INDEX supporters_segment_facts;
CREATE INDEX supporters_segment_facts ON supporters(
  id, created_at, joined_at, updated_at, consent_email_at, consent_email_refused_at,
  consent_sms_at, consent_sms_refused_at, origin, tag_list);

-- Records added per UTC day (created_at / 86400) and origin ('unknown'
-- for none), honeytokens left out; and the tags those records carry per
-- day. Kept by the triggers below, whatever writes: the dashboard sums a
-- month of days instead of walking a month of records.
CREATE TABLE supporter_day_counts (
  day    INTEGER NOT NULL,
  origin TEXT    NOT NULL,
  n      INTEGER NOT NULL,
  PRIMARY KEY (day, origin)
) STRICT, WITHOUT ROWID;

CREATE TABLE tag_day_counts (
  day INTEGER NOT NULL,
  tag TEXT    NOT NULL,
  n   INTEGER NOT NULL,
  PRIMARY KEY (day, tag)
) STRICT, WITHOUT ROWID;

INSERT INTO supporter_day_counts (day, origin, n)
SELECT s.created_at / 86400, coalesce(s.origin, 'unknown'), count(*) FROM supporters s
WHERE s.id NOT IN (SELECT supporter_id FROM honeytokens) GROUP BY 1, 2;

INSERT INTO tag_day_counts (day, tag, n)
SELECT s.created_at / 86400, t.tag, count(*) FROM supporter_tags t JOIN supporters s ON s.id = t.supporter_id
WHERE s.id NOT IN (SELECT supporter_id FROM honeytokens) GROUP BY 1, 2;

-- A record counts from its insert, unless and until it is marked a
-- honeytoken (marks come after the insert).
CREATE TRIGGER supporters_counted AFTER INSERT ON supporters
BEGIN
  INSERT INTO supporter_day_counts (day, origin, n)
  VALUES (NEW.created_at / 86400, coalesce(NEW.origin, 'unknown'), 1)
  ON CONFLICT (day, origin) DO UPDATE SET n = n + 1;
END;

-- Before a record goes, its tags and its mark go (each counted out by its
-- own trigger while the record is still there to say which day it
-- belongs to); then the record itself is counted out. An erasure deletes
-- them in that order itself; this holds for any other DELETE too.
CREATE TRIGGER supporters_uncounted BEFORE DELETE ON supporters
BEGIN
  DELETE FROM supporter_tags WHERE supporter_id = OLD.id;
  DELETE FROM honeytokens WHERE supporter_id = OLD.id;
  UPDATE supporter_day_counts SET n = n - 1
  WHERE day = OLD.created_at / 86400 AND origin = coalesce(OLD.origin, 'unknown');
END;

CREATE TRIGGER supporter_tags_counted AFTER INSERT ON supporter_tags
WHEN NOT EXISTS (SELECT 1 FROM honeytokens h WHERE h.supporter_id = NEW.supporter_id)
BEGIN
  INSERT INTO tag_day_counts (day, tag, n)
  SELECT s.created_at / 86400, NEW.tag, 1 FROM supporters s WHERE s.id = NEW.supporter_id
  ON CONFLICT (day, tag) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER supporter_tags_uncounted AFTER DELETE ON supporter_tags
WHEN NOT EXISTS (SELECT 1 FROM honeytokens h WHERE h.supporter_id = OLD.supporter_id)
BEGIN
  UPDATE tag_day_counts SET n = n - 1
  WHERE tag = OLD.tag AND day = (SELECT s.created_at / 86400 FROM supporters s WHERE s.id = OLD.supporter_id);
END;

-- A mark takes the record and its tags out of the counts; removing one
-- (an erasure, before the record goes) puts them back.
CREATE TRIGGER honeytokens_uncounted AFTER INSERT ON honeytokens
BEGIN
  UPDATE supporter_day_counts SET n = n - 1
  WHERE (day, origin) = (SELECT s.created_at / 86400, coalesce(s.origin, 'unknown') FROM supporters s
                         WHERE s.id = NEW.supporter_id);
  UPDATE tag_day_counts SET n = n - 1
  WHERE day = (SELECT s.created_at / 86400 FROM supporters s WHERE s.id = NEW.supporter_id)
    AND tag IN (SELECT t.tag FROM supporter_tags t WHERE t.supporter_id = NEW.supporter_id);
END;

CREATE TRIGGER honeytokens_counted AFTER DELETE ON honeytokens
BEGIN
  UPDATE supporter_day_counts SET n = n + 1
  WHERE (day, origin) = (SELECT s.created_at / 86400, coalesce(s.origin, 'unknown') FROM supporters s
                         WHERE s.id = OLD.supporter_id);
  UPDATE tag_day_counts SET n = n + 1
  WHERE day = (SELECT s.created_at / 86400 FROM supporters s WHERE s.id = OLD.supporter_id)
    AND tag IN (SELECT t.tag FROM supporter_tags t WHERE t.supporter_id = OLD.supporter_id);
END;

-- A tag's total and the tags page read the counts by tag.
CREATE INDEX tag_day_counts_tag ON tag_day_counts(tag, day, n);
