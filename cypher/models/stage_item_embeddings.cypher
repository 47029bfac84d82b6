// Stage one batch of a model version's item embeddings (UNWIND batches of {id, embedding}) beside the
// active ones: readers never read Item.staged_embedding; set_item_embeddings switches them in one transaction.
UNWIND $rows AS row
MATCH (i:Item {id: row.id})
SET i.staged_embedding = row.embedding, i.staged_version = $version
