package scan

import (
	_ "embed"
	"strconv"
	"strings"
	"sync"
)

// services.txt lists IANA's service names (as Debian's netbase selects
// them): names only, no frequencies.
//
//go:embed services.txt
var servicesTxt string

var (
	servicesOnce sync.Once
	serviceNames map[uint32]string // proto<<16 | port → name
	serviceByKey map[string]uint16 // "tcp/name" → port
)

func loadServices() {
	serviceNames = map[uint32]string{}
	serviceByKey = map[string]uint16{}
	for _, line := range strings.Split(servicesTxt, "\n") {
		name, pp, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		ps, proto, _ := strings.Cut(pp, "/")
		port, err := strconv.Atoi(ps)
		if err != nil {
			continue
		}
		pr := TCP
		if proto == "udp" {
			pr = UDP
		}
		key := uint32(pr)<<16 | uint32(port)
		if _, dup := serviceNames[key]; !dup {
			serviceNames[key] = name
		}
		serviceByKey[proto+"/"+name] = uint16(port)
	}
	// Names IANA registers under other words, as people say them.
	for k, v := range map[uint32]string{uint32(TCP)<<16 | 8080: "http-proxy", uint32(TCP)<<16 | 443: "https", uint32(TCP)<<16 | 3306: "mysql"} {
		serviceNames[k] = v
	}
}

// ServiceName returns IANA's name for port of proto, or "unknown".
func ServiceName(proto Proto, port uint16) string {
	servicesOnce.Do(loadServices)
	if n, ok := serviceNames[uint32(proto)<<16|uint32(port)]; ok {
		return n
	}
	return "unknown"
}

func portByName(name string, udp bool) (uint16, bool) {
	servicesOnce.Do(loadServices)
	proto := "tcp"
	if udp {
		proto = "udp"
	}
	p, ok := serviceByKey[proto+"/"+strings.ToLower(name)]
	return p, ok
}

func namedPorts(proto Proto) []uint16 {
	servicesOnce.Do(loadServices)
	var out []uint16
	for k := range serviceNames {
		if Proto(k>>16) == proto {
			out = append(out, uint16(k))
		}
	}
	return sortedUnique(out)
}

// topTCP ranks TCP ports by how often they are found open on the public
// Internet, most frequent first. sonde's own ranking, compiled from public
// Internet-wide survey reports (Censys and Shodan port statistics, the
// Internet Census of 2012, Project Sonar's studies) and the lab's needs; it
// is not nmap's nmap-services file.
var topTCP = []uint16{
	80, 443, 22, 21, 25, 23, 3389, 8080, 110, 143, 53, 445, 139, 135, 3306, 993, 995, 587, 8443, 111,
	5900, 1723, 8888, 465, 7547, 5060, 2000, 8000, 179, 1025, 5432, 6379, 81, 8081, 5000, 49152, 1433, 161, 3128, 10000,
	2222, 8008, 8082, 9000, 9090, 9200, 27017, 11211, 5901, 4443, 1521, 2049, 389, 636, 1900, 6000, 6001, 873, 990, 992,
	554, 514, 513, 512, 515, 631, 2082, 2083, 2086, 2087, 2095, 2096, 8880, 8883, 1883, 5222, 5269, 5672, 6443, 9100,
	10250, 2375, 2376, 7001, 7002, 8009, 8089, 8181, 8834, 9443, 9418, 3000, 3001, 4000, 5001, 5555, 5985, 5986, 6667, 7070,
	8001, 8083, 8084, 8085, 8086, 8087, 8088, 8090, 8161, 8200, 8500, 8545, 8800, 9001, 9002, 9080, 9091, 9300, 9999, 10001,
	1080, 1194, 1701, 500, 4500, 1812, 3260, 3268, 3269, 88, 464, 749, 543, 544, 548, 2121, 2323, 26, 37, 79,
	106, 113, 119, 144, 199, 427, 444, 497, 1026, 1027, 1028, 1029, 1110, 1720, 1755, 2001, 2601, 2717, 3986, 5009,
	5051, 5190, 5357, 5631, 5666, 5800, 6646, 7000, 7443, 8010, 8031, 8099, 8100, 8443, 8888, 9009, 9100, 9943, 32768, 49153,
	49154, 49155, 49156, 49157, 50000, 50070, 60000, 61616, 62078, 7, 9, 13, 17, 19, 1, 3, 6, 24, 30,
}

// topUDP ranks UDP ports the same way.
var topUDP = []uint16{
	53, 123, 161, 137, 138, 67, 68, 69, 500, 514, 520, 1900, 4500, 5353, 5060, 111, 2049, 162, 1434, 1701,
	1812, 1813, 11211, 3478, 19, 17, 7, 9, 13, 37, 49, 88, 177, 389, 427, 443, 445, 464, 623, 626,
	631, 1194, 1645, 1646, 2048, 3283, 3389, 3702, 4444, 5000, 5004, 5351, 5355, 5632, 10000, 17185, 20031, 27015, 32768, 49152,
}
