import { writeFileSync } from 'node:fs'
import { firingManifest, MANIFEST_PATH } from './manifest.js'

writeFileSync(MANIFEST_PATH, JSON.stringify(firingManifest(), null, 2) + '\n')
console.log(`${firingManifest().length} rules with a firing case -> ${MANIFEST_PATH}`)
