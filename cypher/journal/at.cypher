// When the change of one version was made (no row when it is no longer kept).
MATCH (j:ServiceGraphJournal {version: $version})
RETURN j.at AS at
