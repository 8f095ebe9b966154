/** This CLI's version: `--version`, and the producing tool recorded in published manifests. A test keeps it equal to package.json's. */
export const TOOL = { name: 'devstack-dumps', version: '0.1.0' } as const;
