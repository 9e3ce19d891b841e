#!/usr/bin/env python3
# needs: python3 (regenerates these fixtures; not run by the tests)
"""make_fixtures.py — writes multi_core.json, the hand-designed TrueNorth model
used by tests/unit/test_tn_model.c.  Only the two 256-row crossbars are
generated (typing 512 rows is error-prone); every value is chosen by hand and
the expected values in the test are derived from the choices written here.

Contents: comments of both kinds (one inside a string must stay), an unknown
top-level key, two crossbar prototypes, three neuron types whose names are
shuffled hex numbers, three cores with ids 7, 0, 12 (not in file order) using
every compressed-array form (plain, "a:b", "a:step:b" with positive and
negative steps, "vxn" with negative v), and one core with no used neuron."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def row(typ, byts):
    return '{"type":"S%d","synapses":"%s"}' % (typ, " ".join("%02X" % b for b in byts))


def diag(i):
    b = [0] * 32
    b[i // 8] = 0x80 >> (i % 8)
    return b


# protA: axon i has type i % 4 and reaches neuron i only.
prot_a = [row(i % 4, diag(i)) for i in range(256)]
# protB: axons 0..127 type 3, 128..255 type 1; row 0 reaches every neuron;
# row 1 reaches neurons 4, 6 (0x0a, lower case) and 255; row 3, written
# without spaces, reaches neuron 248; every other row is empty.
prot_b = []
for i in range(256):
    t = 3 if i < 128 else 1
    if i == 0:
        prot_b.append(row(t, [0xFF] * 32))
    elif i == 1:
        prot_b.append('{"type":"S3","synapses":"0a %s 01"}' % " ".join(["00"] * 30))
    elif i == 3:
        prot_b.append('{"type":"S3","synapses":"%s80"}' % ("00" * 31))
    else:
        prot_b.append(row(t, [0] * 32))


def rows(r):
    return ",\n".join("\t\t\t\t" + x for x in r)


TEXT = """{
\t/* General model parameters: "quoted" {braces} inside a comment */
\t"model":{
\t\t"coreCount":3,
\t\t"neuronclass":"NeuronGeneral",
\t\t"crossbarSize":256,
\t\t"crossbarclass":"CrossbarBinary",
\t\t"networking":"INTRA",
\t\t"useCrossbarPrototypes":true
\t},
\t// a line comment
\t"extra":{"unknown":[1,2,{"x":"y"}]},
\t"crossbarTypes":[
\t\t{"name":"protA","crossbar":{"rows":[
\t\t\t\t/* Parameters */
%s
\t\t]}},
\t\t/* between the prototypes */
\t\t{"name":"protB","unknownField":5,"crossbar":{"rows":[
%s
\t\t]}}
\t],
\t"neuronTypes":[
\t\t{"name":"N00000003","class":"NeuronGeneral","sigma0":1,"sigma1":-1,"sigma2":1,"sigma3":-1,"s0":2,"s1":3,"s2":255,"s3":0,"b0":false,"b1":false,"b2":false,"b3":false,"sigma_lambda":-1,"lambda":1,"c_lambda":false,"epsilon":true,"alpha":262143,"beta":100,"TM":0,"gamma":1,"kappa":false,"sigma_VR":1,"VR":0,"V":0},
\t\t{"name":"N00000001","class":"NeuronGeneral","sigma0":-1,"sigma1":1,"sigma2":1,"sigma3":1,"s0":1,"s1":1,"s2":0,"s3":0,"b0":0,"b1":0,"b2":0,"b3":0,"sigma_lambda":1,"lambda":0,"c_lambda":0,"epsilon":0,"alpha":1,"beta":0,"TM":0,"gamma":0,"kappa":1,"sigma_VR":-1,"VR":3,"V":-5,"foo":"ignored"},
\t\t{"name":"N0000000A","class":"NeuronGeneral","sigma0":1,"sigma1":1,"sigma2":1,"sigma3":1,"s0":7,"s1":255,"s2":0,"s3":1,"b0":false,"b1":true,"b2":false,"b3":false,"sigma_lambda":1,"lambda":255,"c_lambda":true,"epsilon":false,"alpha":10,"beta":524,"TM":5,"gamma":2,"kappa":true,"sigma_VR":1,"VR":18,"V":-524288}
\t],
\t/* Core parameters */
\t"core":{
\t\t"metadata":{"coreletClass":"X","note":"not a /* comment */ \\"q\\"","layer":[1,2]},
\t\t"id":7,
\t\t"timeScaleExponent":0,
\t\t"rngSeed":4294967295,
\t\t"colour":"red",
\t\t"neurons":{
\t\t\t"types":["1x100","3x100","10x50","0x6"],
\t\t\t"destCores":["0x128","12x122","-1x6"],
\t\t\t"destAxons":["0:127","255:-1:128"],
\t\t\t"destDelays":["1:15","15:-1:1","2x226"]
\t\t},
\t\t"crossbar":{"name":"protA"}
\t},
\t"core":{
\t\t"id":0,
\t\t"timeScaleExponent":0,
\t\t"rngSeed":12345,
\t\t"neurons":{
\t\t\t"dendrites":["0:251","252:255"],
\t\t\t"types":[1,3,10,"1:2:3","10x251"],
\t\t\t"destCores":["-59x7",874,"7:5:17","-1x245"],
\t\t\t"destAxons":["22:-1:20","27:-4:19","0x250"],
\t\t\t"destDelays":["15x10",1,2,"3:3","4x243"]
\t\t},
\t\t"crossbar":{"name":"protB"}
\t},
\t"core":{
\t\t"metadata":[1,2],
\t\t"id":12,
\t\t"rngSeed":0,
\t\t"timeScaleExponent":0,
\t\t"neurons":{
\t\t\t"types":["0x256"],
\t\t\t"destCores":["-1x256"],
\t\t\t"destAxons":["0x256"],
\t\t\t"destDelays":["0x256"]
\t\t},
\t\t"crossbar":{"name":"protA"}
\t}
}
""" % (rows(prot_a), rows(prot_b))

with open(os.path.join(HERE, "multi_core.json"), "w") as f:
    f.write(TEXT)
