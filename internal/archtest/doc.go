// Package archtest holds no code: its tests check the project's structure,
// the layer order of DESIGN.md, against what the packages really import.
package archtest
