// Uniqueness constraints (each also creates the index MERGE uses) and lookup indexes.
// Applied by `kgrec graph init`; every statement is idempotent. The item and attribute labels of the
// catalogue get theirs from its schema (catalogue/store.py: cypher/catalogue/unique.cypher, name.cypher).
CREATE CONSTRAINT user_id IF NOT EXISTS FOR (u:User) REQUIRE u.id IS UNIQUE;
CREATE CONSTRAINT item_id IF NOT EXISTS FOR (i:Item) REQUIRE i.id IS UNIQUE;
CREATE CONSTRAINT tag_name IF NOT EXISTS FOR (t:Tag) REQUIRE t.name IS UNIQUE;
CREATE CONSTRAINT entity_id IF NOT EXISTS FOR (e:Entity) REQUIRE e.id IS UNIQUE;
CREATE CONSTRAINT attribute_id IF NOT EXISTS FOR (a:Attribute) REQUIRE a.id IS UNIQUE;
CREATE CONSTRAINT model_version_id IF NOT EXISTS FOR (v:ModelVersion) REQUIRE v.id IS UNIQUE;
CREATE CONSTRAINT refresh_run_id IF NOT EXISTS FOR (r:RefreshRun) REQUIRE r.id IS UNIQUE;
CREATE CONSTRAINT refresh_lock_name IF NOT EXISTS FOR (l:RefreshLock) REQUIRE l.name IS UNIQUE;
CREATE CONSTRAINT graph_state_id IF NOT EXISTS FOR (g:GraphState) REQUIRE g.id IS UNIQUE;
CREATE CONSTRAINT erased_user_hash IF NOT EXISTS FOR (e:ErasedUser) REQUIRE e.hash IS UNIQUE;
CREATE INDEX item_title IF NOT EXISTS FOR (i:Item) ON (i.title);
CREATE INDEX entity_name IF NOT EXISTS FOR (e:Entity) ON (e.name);
CREATE INDEX model_version_active IF NOT EXISTS FOR (v:ModelVersion) ON (v.active);
CALL db.awaitIndexes(300);
