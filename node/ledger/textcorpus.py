"""The training text of the record text coder (textcode.py).

Only the trainer (texttrain.py) reads this: the coder itself runs from the frozen table in
textdict.py, which is part of the wire format. The lines below were written
for the purpose (needs, offers, pledges, update notes, sites, names and
revocation reasons of a relief network after a disaster: water, food,
health, shelter, energy, transport, and the production processes of small
workshops); none is taken from the bench's workloads or the demo story, which
serve as held-out text when the savings are measured.

    python -m meshaid.node.ledger.texttrain     # prints a new textdict.py

Re-training changes the wire format: only with a new record version.
"""

from __future__ import annotations

NEEDS = """\
drinking water for 200 people
bottled water, 1.5 L
clean water for the clinic
water purification tablets
chlorine for the well
jerrycans, 20 L
water tank 1000 L
water filters, ceramic
hand pump for the well, spare seals
diesel for the generator
petrol for the water pump
generator, 5 kW or more
car batteries, 12 V
solar panels and charge controller
power banks for radios
LiPo cells 18650
candles and matches
flour, rice or pasta
baby formula and nappies
canned food for 50 families
bread for the shelter
hot meals for 120 people
cooking oil and salt
fresh vegetables and fruit
milk powder for children
insulin, needs a cold chain
antibiotics: amoxicillin
paracetamol and ibuprofen
bandages, gauze and tape
sterile gloves, size M and L
splints for arms and legs
crutches, adult size
wound dressings
oxygen cylinders
blood pressure cuff
stretchers and blankets
a doctor or nurse for the night shift
first aid kits
masks and hand sanitiser
body bags
tarpaulins for roofs
tents for 10 families
sleeping bags and mattresses
blankets, warm clothes
plastic sheeting, 4 x 6 m
plywood sheets, 18 mm
nails, screws and hinges
roofing sheets, corrugated steel
timber 50 x 100 mm, 3 m lengths
cement bags, 25 kg
sandbags for the river bank
chainsaw and fuel
pump to drain the basement
transport to the hospital
a truck to move pallets from the port
fuel for the ambulance
bicycle tyres and tubes
spare parts for a forklift
hydraulic hose, 1/2 inch
bearings 6205-2RS
V-belts for the pump motor
steel plate 6 mm
aluminium sheet 2 mm
stainless steel pipe 25 mm
M8 bolts and nuts, stainless
welding rods and gas
MIG wire 0.8 mm
PLA or PETG filament
resin for the printer
copper wire 2.5 mm2
cable ties and tape
circuit boards for the relays
LoRa radios and antennas
SMA connectors and coax
USB cables and chargers
soldering iron and solder
fuses 10 A and 20 A
light bulbs, LED, 12 V
torches and batteries
radio for the school shelter
sewing machine needles
thread, cotton and polyester
fabric for masks
soap and detergent
toilet paper and buckets
latrine tools, shovels
disinfectant for the latrines
rubbish bags
kitchen gas, propane bottles
large cooking pots
cutlery and plates for 200
childcare help in the afternoon
interpreter for the clinic
volunteers to unload the truck
drivers with a licence
an electrician to check the wiring
a mechanic for the generator
a plumber to fix the main pipe
someone to repair the pump
urgent: insulin for a child
urgent: water for the hospital
critical: oxygen at the clinic
medicine for the elderly home
food for the dogs at the shelter
animal feed, hay and grain
seeds and compost
"""

OFFERS = """\
stock: 300 L of bottled water
water truck, 5000 L, with driver
we can purify 2000 L per day
diesel, 400 L in drums
generator 10 kW, available at night
charging station for phones and radios
solar panels 300 W, 12 in stock
flour, 40 sacks of 25 kg
rice, 2 pallets
canned fish and beans
hot meals, 300 per day
bread, 500 loaves per day
fresh lettuce, herbs and tomatoes
eggs from our farm
first aid training
nurse available, day shift
doctor on call at the clinic
medical supplies from the pharmacy
blankets and camp beds
tents, 8 person
tarpaulins 4 x 6 m
shelter space for 40 people
warm clothes, all sizes
CNC milling: aluminium and steel parts
lathe work, up to 300 mm diameter
laser cutting, sheet up to 10 mm
press brake bending, 2 m
MIG and TIG welding, steel and aluminium
welder with mobile rig
cast iron and aluminium casting
sand casting up to 20 kg
3D printing: PETG, ASA and PLA parts
resin printing, small parts
PCB assembly, SMD and through hole
PCB design and repair
we can build LoRa relays
radio repair and antennas
sewing: masks, bags and tarps
industrial sewing machines, 6
cooking for 200 people
kitchen with gas stove
repair of pumps and engines
small engine repair
bicycle repair
carpentry and roofing
woodwork: pallets, crates and frames
forklift and driver
truck with crane, 10 t
van for transport, 1 t
boat to cross the river
storage space, dry, 200 m2
cold storage for medicines
fridge space for insulin
electrician, licensed
plumber with tools
mechanic, diesel engines
interpreter: Arabic, French and English
childcare at the school
volunteers, 10 people
chemistry lab: chlorine and disinfectant
soap production
steel bar, 20 mm, 6 m lengths
aluminium profiles
stainless sheet 1.5 mm
bolts, nuts and washers
copper cable 4 mm2
fuel pump and hoses
container with kitchenware
container with steel pipes
container of canned food
manifest: spare parts for trucks
laser cutter, 1 x 2 m bed
capacity: 40 brackets per day
capacity: 200 meals per day
can make splints and brackets
can cut and bend sheet metal
can weld frames and trailers
can print spare parts overnight
"""

PLEDGES_NOTES = """\
on its way
on the way by truck
delivered to the clinic
delivered at the gate
will deliver tomorrow morning
half today, the rest tomorrow
pick up at the dock
collect from the shop
by boat this evening
by van before noon
from our stock
from the container
printed overnight
cast and machined
welded, ready at 6
ready for pick up
cancelled, no fuel
fulfilled, thank you
still needed
no longer needed
need more, please
only 20 left
moved to the school
out of stock
stock renewed
waiting for parts
needs a driver
done
"""

SITES_NAMES = """\
Pier 3 clinic
Dock 4
Machine shop
Foundry
Print farm
PCB shop
Hydroponic farm
Field kitchen
School shelter
North school
Central hospital
Red Cross post
Fire station
Police station
Town hall
Church hall
Mosque
Sports hall
Community centre
Water works
Power station
Bus depot
Harbour office
Fish market
Bakery
Pharmacy
Garage
Warehouse 7
Camp A
Camp B
Old mill
Riverside
Hill farm
East district
West gate
Market square
Ana
Ben
Chen
Dara
Eli
Fatima
Gus
Hana
Ivan
Jamal
Kim
Lucia
Mo
Nadia
Omar
Pia
Rui
Sara
Tariq
Uma
Yusuf
Zoe
lost radio
stolen key
left the network
stolen phone and radio
key leaked
"""

TRAIN: list[str] = [line for block in (NEEDS, OFFERS, PLEDGES_NOTES, SITES_NAMES)
                    for line in block.splitlines() if line]

# Words and fragments the coder may emit as one symbol: the vocabulary of
# needs and offers (with their usual leading space) and common English pieces.
WORDS = """\
water drinking bottled clean purification tablets chlorine jerrycans tank filters pump
diesel petrol generator batteries battery solar panels power charging radio radios
food flour rice canned bread meals cooking oil salt fresh vegetables fruit milk
baby children people families family elderly insulin antibiotics medicine medical
medicines paracetamol bandages gloves splints crutches dressings oxygen blankets
stretchers doctor nurse first aid masks sanitiser soap toilet
tents tarpaulins shelter sleeping mattresses clothes plastic sheeting plywood sheets
sheet nails screws bolts nuts washers roofing timber cement sandbags
transport truck trucks van boat driver drivers forklift pallets pallet container
fuel spare parts part hose bearings steel aluminium stainless pipe pipes plate bar
welding weld welder MIG TIG wire gas filament resin print printing printed printer
copper cable cables circuit boards board relays relay LoRa antennas antenna
connectors USB chargers soldering solder fuses light LED torches
sewing machine machines thread fabric cotton detergent
kitchen pots plates large small spare repair mechanic electrician plumber engine
engines volunteers help someone urgent critical needed need needs more
stock capacity available per day night week hour can make cut bend build
CNC milling lathe laser cutting press brake casting cast iron sand design assembly
storage space cold fridge tools clinic hospital school station hall
dock port shop farm field centre district camp market office gate
delivered deliver deliver on its way by from the with and for to of in at or up
we our will ready pick collect tomorrow morning today evening noon before after
thank you still no longer only left moved out renewed waiting cancelled fulfilled
stolen lost key network phone
"""

FRAGMENTS = [
    "ing", "tion", "ers", "er", "ed", "es", "re", "th", "an", "on", "in", "en", "at",
    "st", "ar", "or", "al", "le", "nd", ", ", ": ", " x ", " mm", " kg", " L", " m",
    "00", "000", "20", "50", "10", "12", "the ", "and ", " to ", " for ", " of ",
]
