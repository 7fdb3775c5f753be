// Wait until the indexes just created are online: the journal trim names its index in a
// hint, which a planner refuses while that index is still being populated.
CALL db.awaitIndexes(300)
