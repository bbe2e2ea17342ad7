-- MySQL dump 10.13
CREATE TABLE t (x int);
