// The pages of a sync session are read by session at commit.
CREATE INDEX sync_page_session IF NOT EXISTS
FOR (p:ServiceGraphSyncPage) ON (p.session)
