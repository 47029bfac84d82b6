// (:Item) nodes with the catalogue's labels ({{labels}}: Item and e.g. Product) and properties.
// $rows: [{id, title, text, props: {<item property>: value}}] (a null property is removed)
UNWIND $rows AS row
MERGE (i:Item {id: row.id})
SET i:{{labels}}, i.title = row.title, i.text = row.text
SET i += row.props
