"""These tests build and dissect frames with scapy; they never route through the
host. Importing scapy loads the host's route tables by default (every interface of
every lab running on the machine): 0.5 s of CPU in each pytest process that collects
this folder. Without them scapy still builds and dissects the same."""
from scapy.config import conf

conf.route_autoload = conf.route6_autoload = False
