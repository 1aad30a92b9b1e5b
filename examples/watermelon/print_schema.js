// Prints schema.js's appSchema in the compact form the README shows (`node print_schema.js`),
// so that the README's copy can be checked against the example (tests/watermelon).
const { schema } = require('./schema')

const column = ({ name, type, isOptional, isIndexed }) => {
  const more = [isOptional && 'isOptional: true', isIndexed && 'isIndexed: true'].filter(Boolean)
  return `c('${name}', '${type}'${more.length ? `, { ${more.join(', ')} }` : ''})`
}
const lines = [
  "import { appSchema, tableSchema } from '@nozbe/watermelondb'",
  '',
  'const c = (name, type, more = {}) => ({ name, type, ...more })',
  '',
  'export const schema = appSchema({',
  `  version: ${schema.version},`,
  '  tables: [',
]
for (const table of Object.values(schema.tables)) {
  lines.push(`    tableSchema({ name: '${table.name}', columns: [`)
  const columns = table.columnArray.map(column)
  for (let i = 0; i < columns.length; i += 4) lines.push(`      ${columns.slice(i, i + 4).join(', ')},`)
  lines.push('    ] }),')
}
lines.push('  ],', '})')
console.log(lines.join('\n'))
