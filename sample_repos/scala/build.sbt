ThisBuild / scalaVersion := "3.4.2"

lazy val confy = (project in file("."))
  .settings(name := "confy")
