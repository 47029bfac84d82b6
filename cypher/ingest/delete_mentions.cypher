// Remove MENTIONS that the latest extraction no longer finds for an item it processed. $rows: [{item, entity}]
UNWIND $rows AS row
MATCH (:Item {id: row.item})-[r:MENTIONS]->(:Entity {id: row.entity})
DELETE r
