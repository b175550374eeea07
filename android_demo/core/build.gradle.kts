// Plain Java, written to the API-23 android.jar's language level: no lambdas, streams or java.util.function
// in main (the Gradle-free build here has no desugaring). org.json is Android's own on a phone.
plugins {
    `java-library`
}

java {
    sourceCompatibility = JavaVersion.VERSION_1_8
    targetCompatibility = JavaVersion.VERSION_1_8
}

dependencies {
    compileOnly("org.json:json:20090211") // the API of Android's org.json
    testImplementation("org.json:json:20090211")
    testImplementation("org.junit.jupiter:junit-jupiter:5.9.2")
}

tasks.test {
    useJUnitPlatform()
    // golden files: python android_demo/tools/make_golden.py build/golden (tests/test_android_core.py does it)
    systemProperty("edgemef.golden", layout.buildDirectory.dir("golden").get().asFile.path)
}
