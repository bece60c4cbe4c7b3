#!/usr/bin/env node
// The `vap` command line (vap_core::cli): `npx vap --help`.
'use strict'
const { cli } = require('../index.js')
process.exitCode = cli(process.argv.slice(2))
